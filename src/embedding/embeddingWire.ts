/**
 * The embedding view's conversions (no `vscode` import, unit-tested): view settings → the
 * engine's `embed` job options, engine result → wire message (checked by the compiler, so a
 * change of `EmbeddingResult` that breaks the protocol fails the build here), and whether two
 * panes show the same images in the same order (then hover is linked between them).
 */
import type { DatasetJobOptions } from '../engine/client';
import type { EmbedOptions, EmbeddingResult } from '../engine/embedding/embedData';
import type { EmbeddingSettings, WireEmbedding } from '../protocol';

/** Only the parameters of the chosen method are passed; the engine's defaults cover the rest. */
export function embeddingJob(settings: EmbeddingSettings, layer: string | undefined): DatasetJobOptions & EmbedOptions {
  const job: DatasetJobOptions & EmbedOptions = { method: settings.method, limit: settings.limit };
  if (layer) job.layer = layer;
  if (settings.method === 'tsne') {
    job.perplexity = settings.perplexity;
    job.iterations = settings.iterations;
  } else if (settings.method === 'umap') {
    job.iterations = settings.iterations;
    job.neighbors = settings.neighbors;
    job.minDist = settings.minDist;
  }
  return job;
}

export function toWireEmbedding(r: EmbeddingResult): WireEmbedding {
  return {
    method: r.method,
    layer: r.layer,
    dims: r.dims,
    points: r.points,
    labels: r.labels,
    predicted: r.predicted,
    classNames: r.classNames,
    knnAccuracy: r.knnAccuracy,
    trustworthiness: r.trustworthiness,
    trustworthinessSample: r.trustworthinessSample,
    seconds: r.seconds,
  };
}

/** True when two results exist and list the same item ids in the same order. */
export function linkedPanes(results: readonly (Pick<EmbeddingResult, 'ids'> | undefined)[]): boolean {
  if (results.length < 2 || !results[0] || !results[1]) return false;
  const [a, b] = [results[0].ids, results[1].ids];
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
