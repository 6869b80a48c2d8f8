import { decodeModel, type Model } from "./learned";
import encoded from "./model.txt";

let model: Model | undefined;

/** The shipped model (model.txt, written by `npm run train:screener`), decoded once per isolate. */
export function getModel(): Model {
  model ??= decodeModel(encoded);
  return model;
}
