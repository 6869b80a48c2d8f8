// `npm run train:screener`: trains the screener's learned half and writes
// src/modules/ai/screening/model.txt.
//
//   npm run train:screener [-- --check]    (--check: train and report, write nothing)
//
// Training data: TRAINING_SETS in test/fixtures/screening/ (labelled.json and the train-*.json
// files). The held-out sets
// (held-out.json, held-out-2.json) are only measured, never trained on; the report prints every
// set's precision, recall and hard-negative false-positive rate for the whole screener (rules and
// model, as the worker runs them, after the int8 rounding of the shipped file).
import { writeFileSync } from "node:fs";
import { decodeModel, encodeModel } from "../src/modules/ai/screening/learned";
import { TRAINING_SETS, addTallies, describeTally, example, load, shuffled, tally, type Tally, train } from "./screener-training";

const OUTPUT = "src/modules/ai/screening/model.txt";

const check = process.argv.includes("--check");
const training = TRAINING_SETS.flatMap(load);
const started = Date.now();

// Five-fold cross-validation on the training data: how the model does on texts it did not see.
const folds = 5;
const order = shuffled(training, 7);
const crossValidation: Tally[] = [];
for (let fold = 0; fold < folds; fold++) {
  const test = order.filter((_, index) => index % folds === fold);
  const trainOn = order.filter((_, index) => index % folds !== fold);
  const model = decodeModel(encodeModel(train(trainOn.map(example))));
  crossValidation.push(tally(model, test));
}

const model = decodeModel(encodeModel(train(training.map(example))));
const encoded = encodeModel(model);
console.log(`trained on ${training.length} texts in ${((Date.now() - started) / 1000).toFixed(1)} s: ${model.hashes.length} features, model.txt ${(encoded.length / 1024).toFixed(0)} KB`);
console.log("cross-validation (training data, five folds):");
crossValidation.forEach((counts, fold) => console.log(`  fold ${fold + 1}: ${describeTally(counts)}`));
console.log(`  all folds: ${describeTally(addTallies(crossValidation))}`);
for (const name of [...TRAINING_SETS, "held-out.json", "held-out-2.json"]) {
  const entries = load(name);
  if (entries.length > 0) console.log(`${name}${name.startsWith("held-out") ? " (never trained on)" : " (trained on)"}: ${describeTally(tally(model, entries))}`);
}
if (!check) {
  writeFileSync(OUTPUT, `${encoded}\n`);
  console.log(`wrote ${OUTPUT}`);
}
