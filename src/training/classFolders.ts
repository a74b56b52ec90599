/**
 * Labelled image folders for training: a folder whose sub-folders (the classes) hold PNG / JPEG
 * images. Found in the workspace from its image files (one `findFiles`, grouped by grandparent
 * folder), or counted for one folder the user browsed to. Only counts names; nothing is decoded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { IMAGE_EXTENSIONS } from '../webviewHost/models';

export interface ClassFolder {
  /** Absolute path of the folder holding the class sub-folders. */
  folder: string;
  /** Class sub-folders with at least one image, sorted (the order the engine assigns labels in). */
  classes: string[];
  images: number;
}

const IMAGE_GLOB = '**/*.{png,PNG,jpg,JPG,jpeg,JPEG}';
const EXCLUDE = '**/{node_modules,.git,out,dist,.ci-artifacts}/**';
/** Bounds the search in huge workspaces; folders past it are still reachable with "Browse…". */
const MAX_FILES = 50_000;

function isImageName(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

/** Workspace folders with at least `minClasses` class sub-folders of images, most images first. */
export async function findClassFolders(minClasses = 2, token?: vscode.CancellationToken): Promise<ClassFolder[]> {
  const files = await vscode.workspace.findFiles(IMAGE_GLOB, EXCLUDE, MAX_FILES, token);
  const byRoot = new Map<string, Map<string, number>>();
  for (const f of files) {
    if (f.scheme !== 'file') continue;
    const classDir = path.dirname(f.fsPath);
    const root = path.dirname(classDir);
    let classes = byRoot.get(root);
    if (!classes) byRoot.set(root, (classes = new Map()));
    const name = path.basename(classDir);
    classes.set(name, (classes.get(name) ?? 0) + 1);
  }
  const out: ClassFolder[] = [];
  for (const [folder, classes] of byRoot) {
    if (classes.size < minClasses) continue;
    out.push({ folder, classes: [...classes.keys()].sort(), images: [...classes.values()].reduce((a, b) => a + b, 0) });
  }
  return out.sort((a, b) => b.classes.length - a.classes.length || b.images - a.images || a.folder.localeCompare(b.folder));
}

/** Counts the class sub-folders and images of one folder (not recursive below the classes). */
export async function describeClassFolder(folder: string): Promise<ClassFolder> {
  const classes: string[] = [];
  let images = 0;
  const entries = await fs.promises.readdir(folder, { withFileTypes: true });
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const files = await fs.promises.readdir(path.join(folder, e.name)).catch(() => [] as string[]);
    const n = files.filter(isImageName).length;
    if (n > 0) {
      classes.push(e.name);
      images += n;
    }
  }
  return { folder, classes: classes.sort(), images };
}
