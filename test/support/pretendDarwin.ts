// Imported first by a test file that runs the code paths of systems without /proc (macOS, Windows) on
// Linux: modules that look at the platform when they load see 'darwin'. Each unit test file runs in its
// own process, so no other file is affected.
Object.defineProperty(process, 'platform', { value: 'darwin' });
