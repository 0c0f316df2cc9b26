// Files bundled as text (esbuild.config.mjs: loader '.sh': 'text'), e.g. src/core/tasks/ownerGuard.sh.
declare module '*.sh' {
  const text: string;
  export default text;
}
