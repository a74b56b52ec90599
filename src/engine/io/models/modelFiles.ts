/**
 * Which files are models, for the VS Code side (custom editors, pickers, the models tree). Kept
 * apart from the loaders so the extension host can import it without loading TF.js.
 */
import * as path from 'path';
import type { ModelFormat } from '../../model/inspectableModel';

export interface ModelFilePattern {
  /** Glob for one file name (VS Code `filenamePattern` style). */
  pattern: string;
  /** What such a file holds; `.json` files are told apart by content. */
  formats: readonly ModelFormat[];
  description: string;
}

/** The model files CNN Lens opens, for the VS Code side (custom editors, file pickers). */
export const MODEL_FILE_PATTERNS: readonly ModelFilePattern[] = [
  { pattern: '*.h5', formats: ['keras-h5'], description: 'Keras 2 HDF5 model' },
  { pattern: '*.hdf5', formats: ['keras-h5'], description: 'Keras 2 HDF5 model' },
  { pattern: '*.keras', formats: ['keras-v3'], description: 'Keras 3 model' },
  { pattern: '*.json', formats: ['tfjs-layers', 'tfjs-graph'], description: 'TensorFlow.js model (model.json)' },
];

export const MODEL_FILE_EXTENSIONS: readonly string[] = ['.h5', '.hdf5', '.keras', '.json'];

/** Glob matching every model file in a workspace (`vscode.workspace.findFiles`). */
export const MODEL_FILE_GLOB = '**/*.{h5,hdf5,keras,json}';

/** File-open dialog filters (`showOpenDialog({filters})`). */
export const MODEL_FILE_FILTERS: Readonly<Record<string, string[]>> = {
  'Models (Keras, TensorFlow.js)': ['h5', 'hdf5', 'keras', 'json'],
  'Keras 2 (HDF5)': ['h5', 'hdf5'],
  'Keras 3': ['keras'],
  'TensorFlow.js model.json': ['json'],
};

export function isModelFileName(file: string): boolean {
  return MODEL_FILE_EXTENSIONS.includes(path.extname(file).toLowerCase());
}

