/**
 * The new classifier head, described as plain data (names, shapes, parameter counts) so the plan
 * can list it before TF.js builds anything: [Flatten if the features are not a vector] →
 * [Dense(hidden, relu)] → Dense(classes, softmax). Names avoid the base's layer names.
 */

export interface HeadLayerSpec {
  name: string;
  className: 'Flatten' | 'Dense';
  units?: number;
  activation?: 'relu' | 'softmax';
  params: number;
}

function unique(name: string, taken: Set<string>): string {
  let candidate = name;
  for (let i = 1; taken.has(candidate); i++) candidate = `${name}_${i}`;
  taken.add(candidate);
  return candidate;
}

export function describeHead(featureShape: number[], hidden: number, classes: number, takenNames: Iterable<string>): HeadLayerSpec[] {
  const taken = new Set(takenNames);
  const layers: HeadLayerSpec[] = [];
  let width = featureShape.reduce((a, b) => a * b, 1);
  if (featureShape.length > 1) layers.push({ name: unique('head_flatten', taken), className: 'Flatten', params: 0 });
  if (hidden > 0) {
    layers.push({ name: unique('head_dense', taken), className: 'Dense', units: hidden, activation: 'relu', params: width * hidden + hidden });
    width = hidden;
  }
  layers.push({ name: unique('head_predictions', taken), className: 'Dense', units: classes, activation: 'softmax', params: width * classes + classes });
  return layers;
}
