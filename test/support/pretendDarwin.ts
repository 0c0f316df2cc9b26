// Imported first by a test file that runs the code paths of systems without /proc (macOS) on Linux:
// modules that look at the platform when they load see 'darwin'. Each unit test file runs in its own
// process, so no other file is affected; the owner processes such a test starts (taskOwner.ts) inherit
// the variable and pretend too (pretendDarwinWhenAsked.ts).
process.env.BG_AGENT_PRETEND_DARWIN = '1';
Object.defineProperty(process, 'platform', { value: 'darwin' });
