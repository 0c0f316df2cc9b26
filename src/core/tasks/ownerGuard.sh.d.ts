// ownerGuard.sh is bundled as text (esbuild.config.mjs: loader '.sh': 'text').
declare const script: string;
export default script;
