// Registers a resolve hook that appends every module URL a process imports to the file named by
// WEIR_IMPORT_TRACE: `node --import ./test/helpers/import-trace.mjs …`. Used to prove which
// packages a command loads (test/cli/startup.test.ts).
import { register } from 'node:module';

const hooks = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (process.env.WEIR_IMPORT_TRACE) appendFileSync(process.env.WEIR_IMPORT_TRACE, result.url + '\\n');
  return result;
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
