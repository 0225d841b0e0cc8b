// A model trained with scikit-learn and exported with skl2onnx (train.py, a command step), then
// registered through the ONNX import: the same checks, signature, evaluation and gate as
// `mlops models register` (pipeline/import/import-model.ts). Needs pip install scikit-learn pandas skl2onnx.
//   mlops train pipeline/examples/sklearn/pipeline.ts [--param python=.venv/bin/python]
import fs from 'node:fs';
import { evaluateImport } from '../../import/import-model';
import { definePipeline, param } from '../../sdk';

export default definePipeline({
  name: 'sklearn',
  description: 'scikit-learn + skl2onnx in a command step, registered through the ONNX import',
  params: {
    data: param.path('../iris/iris_dataset.csv'),
    target: param.string('variety'),
    model: param.string('iris-sklearn'),
    python: param.string('python3', 'Python interpreter with scikit-learn, pandas and skl2onnx'),
    gate: param.boolean(true, 'apply the quality gate of mlops models register --gate'),
  },
  steps: {
    train: {
      command: (p) => [p.python, '{pipelineDir}/train.py'],
      produces: ['model.onnx'],
    },
    register: {
      needs: ['train'],
      run: async (ctx) => {
        const file = ctx.artifacts.path('model.onnx');
        const { data, target, gate } = ctx.params;
        const evaluated = await evaluateImport({ file, data, target, gate });
        if (evaluated.zipMapRemoved) ctx.log(`rewrote ZipMap output "${evaluated.zipMapRemoved}" to the probabilities tensor`);
        for (const [name, value] of Object.entries(evaluated.metrics)) ctx.metric(name, value);
        // What the registry stores is the model as served: with the ZipMap rewritten.
        fs.writeFileSync(file, evaluated.bytes);
        return ctx.register({
          model: ctx.params.model,
          onnxFile: file,
          signature: evaluated.signature,
          metrics: evaluated.metrics,
          reference: evaluated.reference,
          dataFiles: [evaluated.dataFile],
          card: evaluated.card,
        });
      },
    },
  },
});
