/**
 * Paths shared by the code-server based suites (e2e and integration). Works from the tsc output
 * (out/test/...) and from the sources alike: the repo root is found by walking up to CNN Lens's
 * package.json.
 */
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if (JSON.parse(readFileSync(pkg, 'utf8')).name === 'cnn-lens') return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`CNN Lens repository root not found above ${start}`);
    dir = parent;
  }
}

export const repoRoot = findRepoRoot(__dirname);

/** Root of the artifacts folder: `$CNN_LENS_ARTIFACTS`, else `<repo>/.ci-artifacts`. */
export function artifactsRoot(): string {
  return path.resolve(process.env.CNN_LENS_ARTIFACTS || path.join(repoRoot, '.ci-artifacts'));
}

/** A sub-folder of the artifacts root (`screenshots`, `logs`, ...), created on demand. */
export function artifactsDir(kind: string): string {
  const dir = path.join(artifactsRoot(), kind);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A file-name-safe form of a test title. */
export function slug(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120);
}
