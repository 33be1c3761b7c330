import { useLayoutEffect, useRef } from 'react';
import type { OutputLine } from '#contract/api/sessions';
import { formatTime } from '../lib/time-format.ts';

/** How close to the bottom (px) still counts as "following" the output. */
const FOLLOW_SLACK = 24;

/**
 * A command's output as it streams: monospace, one line per row with its time, following
 * the newest line unless the reader scrolled up to read (scrolling back down follows again).
 */
export function OutputLog({ lines, placeholder }: { lines: readonly OutputLine[]; placeholder: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const following = useRef(true);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  const onScroll = () => {
    const el = ref.current;
    if (el) following.current = el.scrollHeight - el.scrollTop - el.clientHeight < FOLLOW_SLACK;
  };

  return (
    <div ref={ref} role="log" aria-label="Output" tabIndex={0} className="output-log" onScroll={onScroll}>
      {lines.length === 0 ? (
        <div className="output-log__placeholder">{placeholder}</div>
      ) : (
        lines.map((line) => (
          <div key={line.seq} className="output-log__line">
            <time dateTime={line.at} className="output-log__time">
              {formatTime(line.at)}
            </time>
            <span className="output-log__text">{line.text}</span>
          </div>
        ))
      )}
    </div>
  );
}
