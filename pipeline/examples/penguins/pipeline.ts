// The regression example: the body mass of Palmer penguins from their species, island, sex
// (categorical) and bill and flipper sizes, some of them missing. It is the iris example with
// other column names: the types and the task (regression: body_mass_g holds many whole numbers)
// are read from the data; the categorical columns are one-hot encoded and the missing numbers
// imputed inside the ONNX graph. Data: README.md beside this file (CC0).
//   mlops train pipeline/examples/penguins/pipeline.ts
import { definePipeline, param } from '../../sdk';
import { etl } from '../../steps/etl';
import { evaluate } from '../../steps/evaluate';
import { gate, gateParams } from '../../steps/gate';
import { register } from '../../steps/register';
import { exportOnnx, train, TRAINERS, type TrainedModel } from '../../steps/train';
import { softmaxParams, splitParams, treeParams } from '../iris/pipeline';

const FEATURES = ['species', 'island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'sex'];
const TARGET = 'body_mass_g';

export default definePipeline({
  name: 'penguins',
  description: 'Predict the body mass of Palmer penguins (regression, categorical and missing values)',
  params: {
    data: param.path('penguins.csv', 'CSV with the FEATURES and TARGET columns'),
    model: param.string('penguins', 'registry name of the model'),
    task: param.enum(['auto', 'classification', 'regression'], 'auto', 'auto: classes for text or few whole numbers'),
    trainer: param.enum(TRAINERS, 'auto', 'auto: linear_regression for this target'),
    ...splitParams,
    maxBadRowShare: param.number(0.05, { min: 0, max: 1, help: 'share of rows that may lack the target' }),
    ...treeParams,
    ...softmaxParams,
    alpha: param.number(1, { min: 0, help: 'linear regression: L2 penalty on the standardized coefficients' }),
    ...gateParams,
    // Body mass is 2700–6300 g; a linear model on these columns reaches R² ≈ 0.87 and RMSE ≈ 300 g.
    minR2: param.number(0.75, { min: -1e9, max: 1, help: 'lowest test R² accepted' }),
    maxRmse: param.number(450, { min: 0, help: 'largest test RMSE accepted, in grams (0: no limit)' }),
  },
  card: {
    intendedUse:
      'A regression example: estimate the body mass (grams) of an adult penguin of the Palmer Archipelago ' +
      'from its species, island, sex and bill and flipper sizes, for teaching and testing.',
    limitations: [
      'Three species on three islands, 2007–2009: other species, places or years are outside its data.',
      'A linear model: errors near 300 g are normal, and larger for the groups with the largest gap below.',
      'Rows without a body mass were dropped; missing features are imputed with training means and modes.',
    ],
    groups: ['island', 'sex', 'species'],
    ethics: {
      consent: 'No personal data: field measurements of animals, published under CC0 (README.md beside this file).',
      representativeness: 'Chinstrap penguins live only on Dream and Gentoo only on Biscoe here: island and species are confounded.',
      harmedGroups: 'No people are affected; the group gaps show where the estimates are worse (by island, sex and species).',
      misuse: 'Not for animal health or research decisions: a demonstration model.',
    },
  },
  steps: {
    etl: {
      run: (ctx) =>
        etl(ctx, {
          file: ctx.params.data,
          features: FEATURES,
          target: TARGET,
          task: ctx.params.task,
          testSize: ctx.params.testSize,
          seed: ctx.params.seed,
          maxBadRowShare: ctx.params.maxBadRowShare,
        }),
    },
    train: { needs: ['etl'], run: (ctx) => train(ctx, ctx.params) },
    export: { needs: ['train'], run: (ctx) => exportOnnx(ctx, ctx.input<TrainedModel>('train')) },
    evaluate: { needs: ['export'], run: (ctx) => evaluate(ctx) },
    gate: { needs: ['evaluate'], run: (ctx) => gate(ctx, ctx.params) },
    register: { needs: ['gate'], run: (ctx) => register(ctx, ctx.params.model) },
  },
});
