// How a task runs on Windows, checked here without Windows: the program (Windows PowerShell from the
// system folder, never PATH), its options, and the script inside the -Command starter (every line of the
// command, in order, then the exit code). Plus which dialect the approval policy reads a shell's path as,
// and the system prompt's words for the shell.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildSystemPrompt } from '../../src/core/agent/systemPrompt';
import { dialectOf } from '../../src/core/approval/shellDialect';
import { MAX_INLINE_SCRIPT, POWERSHELL_OPTIONS, powershellPath, powershellScript, STARTER_HEAD, STARTER_TAIL, windowsShellArgs } from '../../src/core/tasks/windowsShell';

/** The script inside the `-Command` starter: the starter is fixed text around base64 only. */
const decode = (starter: string) => {
  assert.ok(starter.startsWith(STARTER_HEAD) && starter.endsWith(STARTER_TAIL), starter);
  const base64 = starter.slice(STARTER_HEAD.length, -STARTER_TAIL.length);
  assert.match(base64, /^[A-Za-z0-9+/]+=*$/);
  return Buffer.from(base64, 'base64').toString('utf16le');
};

describe('Windows: the program that runs a task', () => {
  it('is powershell.exe under %SystemRoot%', () => {
    assert.equal(powershellPath({ SystemRoot: 'D:\\Win', WINDIR: 'E:\\Other' }), 'D:\\Win\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
  });

  it('finds SystemRoot spelt in any case (a copied environment is not case-insensitive)', () => {
    assert.equal(powershellPath({ SYSTEMROOT: 'D:\\Win' }), 'D:\\Win\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
  });

  it('falls back to WINDIR, then C:\\Windows', () => {
    assert.equal(powershellPath({ WINDIR: 'E:\\Windows' }), 'E:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.equal(powershellPath({}), 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
  });

  it('ignores a relative or empty SystemRoot, which would be looked up from the task folder', () => {
    assert.equal(powershellPath({ SystemRoot: '.', WINDIR: '' }), 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.equal(powershellPath({ SystemRoot: 'Windows', WINDIR: 'F:\\W' }), 'F:\\W\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
    assert.equal(powershellPath({ SystemRoot: '\\\\server\\share\\Windows' }), '\\\\server\\share\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
  });

  it('never comes from PATH', () => {
    const { file } = windowsShellArgs('echo hi', { PATH: 'C:\\proj;C:\\proj\\bin', Path: 'C:\\proj', SystemRoot: 'C:\\Windows' });
    assert.equal(file, 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe');
  });

  it('gets fixed options and the script as base64 of UTF-16LE in a fixed starter (nothing for a command line to quote; not -EncodedCommand, whose errors are CLIXML)', () => {
    const { args } = windowsShellArgs('echo "a b" & \'c\'', {});
    assert.deepEqual(args.slice(0, -1), [...POWERSHELL_OPTIONS, '-Command']);
    assert.deepEqual(POWERSHELL_OPTIONS, ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass']);
    assert.doesNotMatch(args.at(-1) ?? '', /"/);
    assert.equal(decode(args.at(-1) ?? ''), powershellScript('echo "a b" & \'c\''));
  });
});

describe('Windows: the script around a command', () => {
  const command = ['npm ci', '', '  npm run build `', '    --verbose', 'Write-Output "done ✓ $env:USERNAME"', "if ($x) { 'a' } else { 'b' }"].join('\n');
  const script = decode(windowsShellArgs(command, {}).args.at(-1) ?? '');

  it('holds every line of a multi-line command, exactly and in order, at the top level', () => {
    assert.ok(script.includes(command), script);
    let at = 0;
    for (const line of command.split('\n')) {
      const found = script.indexOf(line, at);
      assert.ok(found >= at, `line ${JSON.stringify(line)} missing or out of order`);
      at = found + line.length;
    }
    assert.doesNotMatch(script, /&\s*\{/); // not inside a script block: `$?` and variables stay the command's
  });

  it('makes output UTF-8 without a byte order mark and silences progress records first', () => {
    const before = script.slice(0, script.indexOf(command));
    assert.match(before, /\[Console\]::OutputEncoding = New-Object System\.Text\.UTF8Encoding \$false/);
    assert.match(before, /\$OutputEncoding = \[Console\]::OutputEncoding/);
    assert.match(before, /\$ProgressPreference = 'SilentlyContinue'/);
  });

  it('sets the exit code after the command: $? first, then a native program\'s own code (0 included), else 1', () => {
    const after = script.slice(script.indexOf(command) + command.length);
    // An empty line first: a trailing backtick or an open statement cannot take the next line in.
    assert.match(after, /^\r\n\r\n/);
    const tail = after.trim().split('\r\n');
    assert.deepEqual(tail, ['if ($?) { exit 0 }', 'if ($null -ne $LASTEXITCODE) { exit $LASTEXITCODE }', 'exit 1']);
    // $null until a native program runs: a cmdlet's failure is then 1, and a program that wrote to stderr but exited 0 is 0.
    const before = script.slice(0, script.indexOf(command)).trim().split('\r\n');
    assert.equal(before.at(-1), '$global:LASTEXITCODE = $null');
  });

  it('a command too long for Windows\' command line goes to a script file beside the log, read by a fixed starter', () => {
    const long = `Write-Output '${'x'.repeat(12_000)}'\nnpm test`;
    const launch = windowsShellArgs(long, { SystemRoot: 'C:\\Windows' }, "C:\\Users\\o'neil\\logs\\t1.log.ps1");
    assert.deepEqual(launch.scriptFile, { path: "C:\\Users\\o'neil\\logs\\t1.log.ps1", text: powershellScript(long) });
    const starter = launch.args.at(-1) ?? '';
    const path64 = /FromBase64String\('([A-Za-z0-9+/]+=*)'\)/.exec(starter)?.[1] ?? '';
    assert.equal(Buffer.from(path64, 'base64').toString('utf16le'), "C:\\Users\\o'neil\\logs\\t1.log.ps1");
    assert.equal(starter, `Invoke-Expression ([IO.File]::ReadAllText([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('${path64}')), [Text.Encoding]::UTF8))`);
    assert.ok(launch.args.join(' ').length < 32_000);
    assert.equal(windowsShellArgs('npm test', {}, 'C:\\x.ps1').scriptFile, undefined);
    assert.ok(MAX_INLINE_SCRIPT + 200 < 32_767);
  });

  it('leaves an `exit N` in the command as it is, so it ends PowerShell before the tail', () => {
    const s = powershellScript('cmd /c exit 3\nexit 7');
    assert.ok(s.indexOf('exit 7') < s.indexOf('if ($?)'));
    assert.ok(s.includes('cmd /c exit 3\nexit 7\r\n'));
  });
});

describe('approval: the dialect of a shell path on any OS', () => {
  const cases: [string, string][] = [
    ['C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe', 'other'],
    ['C:\\Program Files\\PowerShell\\7\\pwsh.exe', 'other'],
    ['C:\\Windows\\System32\\cmd.exe', 'other'],
    ['C:\\Program Files\\Git\\bin\\bash.exe', 'bash'],
    ['C:\\Program Files\\Git\\usr\\bin\\sh.exe', 'posix'],
    ['C:/msys64/usr/bin/zsh.exe', 'zsh'],
    ['D:\\Tools\\BASH.EXE', 'bash'],
    ['/bin/bash', 'bash'],
    ['/usr/bin/zsh', 'zsh'],
    ['/bin/sh', 'posix'],
    ['/usr/bin/fish', 'other'],
    ['bash', 'bash'],
  ];
  for (const [shell, dialect] of cases) it(`${shell} → ${dialect}`, () => assert.equal(dialectOf(shell), dialect));
});

describe('system prompt: the shell it names', () => {
  it('on Windows, Windows PowerShell (not cmd.exe or ComSpec), the same on every call', () => {
    const prompt = buildSystemPrompt({ cwd: 'C:\\proj', platform: 'win32' });
    assert.match(prompt, /commands run in Windows PowerShell 5\.1 \(powershell\.exe\).*write PowerShell, not bash/);
    assert.doesNotMatch(prompt, /cmd\.exe|ComSpec/i);
    assert.equal(buildSystemPrompt({ cwd: 'C:\\proj', platform: 'win32' }), prompt);
  });

  it('elsewhere, the shell given', () => {
    assert.match(buildSystemPrompt({ cwd: '/w', platform: 'linux', shell: '/bin/zsh' }), /Platform: linux; commands run in \/bin\/zsh\./);
  });
});
