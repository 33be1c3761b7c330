import { Badge, Button, Combobox, NumberInput, PasswordInput, Select, Table, Tabs, TextInput, Textarea, Tooltip, createTheme } from '@mantine/core';

/**
 * The console's look: dense like an IDE (compact controls, small type in tables), system
 * fonts (it must work offline), light and dark from the same tokens.
 */
export const theme = createTheme({
  primaryColor: 'blue',
  defaultRadius: 'sm',
  cursorType: 'pointer',
  components: {
    // Mantine 9 keeps closed dropdowns in the DOM; their listbox shares the input's label,
    // which makes "the field labelled X" ambiguous for assistive tech and for tests.
    Combobox: Combobox.extend({ defaultProps: { keepMounted: false } }),
    Button: Button.extend({ defaultProps: { size: 'xs' } }),
    TextInput: TextInput.extend({ defaultProps: { size: 'xs' } }),
    // the stock toggle is named "Toggle password visibility", a second "password" field for
    // anyone (or any test) looking for the field labelled Password
    PasswordInput: PasswordInput.extend({ defaultProps: { size: 'xs', visibilityToggleButtonProps: { 'aria-label': 'Show characters' } } }),
    NumberInput: NumberInput.extend({ defaultProps: { size: 'xs' } }),
    Textarea: Textarea.extend({ defaultProps: { size: 'xs' } }),
    Select: Select.extend({ defaultProps: { size: 'xs', allowDeselect: false, comboboxProps: { shadow: 'md' } } }),
    Badge: Badge.extend({ defaultProps: { size: 'sm', variant: 'light', radius: 'sm' } }),
    Tooltip: Tooltip.extend({ defaultProps: { withArrow: true, openDelay: 300 } }),
    Tabs: Tabs.extend({ defaultProps: { keepMounted: false } }),
    Table: Table.extend({ defaultProps: { fz: 'xs', verticalSpacing: 4, horizontalSpacing: 'xs', highlightOnHover: true, stickyHeader: true } }),
  },
});
