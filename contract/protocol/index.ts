/** The server ↔ agent contract. Documented in docs/protocol.md. */
export * from './enroll.ts';
export * from './poll.ts';
export * from './commands.ts';
export * from './diagnostics.ts';
export * from './files.ts';
export * from './transfers.ts';
