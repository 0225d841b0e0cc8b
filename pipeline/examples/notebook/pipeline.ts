// The iris pipeline with its training in a Jupyter notebook (train.ipynb beside this file): the ETL,
// evaluation, gate and registration are the iris example's TypeScript steps. The notebook runs in a
// Jupyter kernel (Debian: python3-nbclient python3-ipykernel python3-numpy python3-pandas python3-onnx).
//   mlops train pipeline/examples/notebook/pipeline.ts --param epochs=500
import { definePipeline, param } from '../../sdk';
import { aroundPythonTraining, pythonTrainingParams } from '../python/pipeline';

export default definePipeline({
  name: 'iris-notebook',
  description: 'The iris example, trained by a notebook step',
  params: {
    data: param.path('../iris/iris_dataset.csv'),
    model: param.string('iris-notebook'),
    ...pythonTrainingParams,
  },
  steps: aroundPythonTraining({
    notebook: 'train.ipynb',
    // The notebook imports the Python example's trainer: a change to it reruns the step (the step cache).
    inputs: ['../python/softmax_onnx.py'],
    produces: ['model.onnx', 'expected_labels.json'],
    timeoutSec: 300,
    description: 'softmax regression with numpy and pandas, exported with the onnx package',
  }),
});
