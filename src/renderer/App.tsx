import { Alert, Center, Loader } from '@mantine/core';
import { useEffect } from 'react';
import { AppHeader } from './components/AppHeader.tsx';
import { describeError } from './lib/error-messages.ts';
import { clearNotifications } from './lib/notify.ts';
import { DeviceScreen } from './screens/DeviceScreen.tsx';
import { FleetScreen } from './screens/FleetScreen.tsx';
import { PreflightScreen } from './screens/PreflightScreen.tsx';
import { SignInScreen } from './screens/SignInScreen.tsx';
import { useSession } from './stores/context.ts';

/** The shell: header, then the sign-in screen, the fleet, one device, or the network pre-flight. */
export function App() {
  const start = useSession((s) => s.start);
  const session = useSession((s) => s.session);
  const startError = useSession((s) => s.startError);
  const route = useSession((s) => s.route);

  useEffect(() => {
    void start();
  }, [start]);

  const signedIn = session?.signedIn ?? false;
  useEffect(() => {
    if (!signedIn) clearNotifications();
  }, [signedIn]);

  let screen;
  if (startError) {
    screen = (
      <Center className="app-main">
        <Alert color="red" title="The console process is not answering" maw={520}>
          {describeError(startError)}
        </Alert>
      </Center>
    );
  } else if (!session) {
    screen = (
      <Center className="app-main">
        <Loader size="sm" aria-label="Loading" />
      </Center>
    );
  } else if (route.screen === 'preflight') {
    screen = <PreflightScreen />;
  } else if (!session.signedIn) {
    screen = <SignInScreen />;
  } else if (route.screen === 'device') {
    screen = <DeviceScreen key={route.deviceId} deviceId={route.deviceId} />;
  } else {
    screen = <FleetScreen />;
  }

  return (
    <div className="app">
      <AppHeader />
      {screen}
    </div>
  );
}
