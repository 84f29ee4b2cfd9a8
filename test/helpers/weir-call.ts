/**
 * @module test/helpers/weir-call — calls an in-process `weir serve`'s Weir API as the CLI does
 * (`callWeirApi`, SigV4 with the server's first admin key), answering errors as values.
 */
import { callWeirApi, WeirApiCallError } from '../../src/cli/weir-api-client.js';
import type { RunningServer } from '../../src/server/index.js';

type Call = Parameters<typeof callWeirApi>[1];

/** The answer, or `{ error: { code, message } }` for an API error. */
export async function weirCall(server: RunningServer, call: Call): Promise<Record<string, unknown>> {
  const key = [...server.keys.keys()][0]!;
  try {
    return await callWeirApi(
      {
        endpoint: new URL(server.url),
        region: 'us-east-1',
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey, method: 'test' },
      },
      call,
    );
  } catch (err) {
    if (err instanceof WeirApiCallError) return { error: { code: err.apiCode, message: err.message } };
    throw err;
  }
}
