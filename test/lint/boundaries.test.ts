/**
 * The boundary lint (eslint/boundaries.js) run through the project's own ESLint config on small
 * fixtures: a forbidden arrow and a reach past a component's index.ts fail; the allowed forms
 * pass. What `npm run lint` enforces is what this states.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: ROOT });

/** The boundary findings for `code` as if it were the file `path` (relative to the repo). */
async function boundaryFindings(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${path}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'weir/boundaries').map((m) => m.message);
}

describe('the boundary lint', () => {
  it('fails an engine file that imports the store', async () => {
    const found = await boundaryFindings('src/engine/fixture.ts', "import '../store/index.js';\n");
    expect(found).toEqual([
      expect.stringMatching(/^engine may not import store \(engine imports only: model, policy-types\)/),
    ]);
  });

  it('fails the engine importing policy, even for types', async () => {
    const code = "import type { PolicySet } from '../policy/index.js';\nexport type P = PolicySet;\n";
    expect(await boundaryFindings('src/engine/fixture.ts', code)).toHaveLength(1);
  });

  it('fails an import that reaches past index.ts, also from a subfolder and by re-export', async () => {
    expect(await boundaryFindings('src/api/fixture.ts', "import '../model/errors.js';\n")).toEqual([
      expect.stringContaining('import it through src/model/index.ts'),
    ]);
    expect(
      await boundaryFindings('src/api/weir/fixture.ts', "export * from '../../policy/bundle.js';\n"),
    ).toHaveLength(1);
  });

  it('fails the gateway importing the store or the API', async () => {
    expect(await boundaryFindings('src/gateway/fixture.ts', "import '../store/index.js';\n")).toHaveLength(1);
    expect(
      await boundaryFindings('src/gateway/fixture.ts', "await import('../api/index.js');\n"),
    ).toHaveLength(1);
  });

  it('fails weir ec2 importing the API (it shares only the EC2 model)', async () => {
    expect(await boundaryFindings('src/cli/ec2/fixture.ts', "import '../../api/index.js';\n")).toHaveLength(
      1,
    );
    expect(await boundaryFindings('src/cli/ec2/fixture.ts', "import '../../ec2-model/index.js';\n")).toEqual(
      [],
    );
  });

  it('passes allowed imports through index.ts and siblings inside a component', async () => {
    const code = [
      "import '../model/index.js';",
      "import '../policy-types/index.js';",
      "import './matcher.js';",
      '',
    ].join('\n');
    expect(await boundaryFindings('src/engine/fixture.ts', code)).toEqual([]);
    expect(
      await boundaryFindings(
        'src/api/weir/fixture.ts',
        "import '../server.js';\nimport '../../store/index.js';\n",
      ),
    ).toEqual([]);
  });
});
