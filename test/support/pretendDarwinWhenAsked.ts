// Imported first by test/support/taskOwner.ts: an owner process started by a test that pretends to be on
// macOS (pretendDarwin.ts) pretends too, so its guard and take-over run the macOS path as well.
if (process.env.BG_AGENT_PRETEND_DARWIN === '1') Object.defineProperty(process, 'platform', { value: 'darwin' });
