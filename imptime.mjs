import { performance } from 'node:perf_hooks';
const m = process.argv[2]; const s = performance.now(); await import(m); console.log(m, (performance.now()-s).toFixed(0),'ms');
