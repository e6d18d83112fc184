/**
 * Reads a seed file (JSON) from disk. Validation happens in {@link Directory.load}, so a seed
 * from a file and one posted to the control API pass the same zod schema.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EmulatorError } from '../errors.js';

/** Reads and JSON-parses a seed file; throws an `invalid` EmulatorError naming the file. */
export async function readSeedFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed;
  } catch (error) {
    throw new EmulatorError(
      'invalid',
      `seed ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * The sample seed shipped with the emulator (`emulator/seeds/contoso.json`), found both from the
 * sources and from the compiled `dist/emulator/...` (tsc does not copy JSON files).
 */
export function sampleSeedPath(): string {
  const candidates = [
    new URL('../seeds/contoso.json', import.meta.url),
    new URL('../../../emulator/seeds/contoso.json', import.meta.url),
  ];
  for (const url of candidates) {
    const file = fileURLToPath(url);
    if (existsSync(file)) return file;
  }
  throw new EmulatorError('not-found', 'the sample seed emulator/seeds/contoso.json was not found');
}
