"""Writes the ONNX file skl2onnx makes of a ColumnTransformer + LogisticRegression pipeline,
built with Debian's python3-onnx alone (skl2onnx is not installable here):

  x1, x2   float  [N,1]  -> Concat
  colour   string [N,1]  -> OneHotEncoder (zeros=1) -> Flatten
  -> Concat -> LinearClassifier (classlabels_strings or classlabels_int64s, SOFTMAX)
  -> output_label [N], probabilities [N,3] -> ZipMap -> output_probability (sequence of maps)

The class scores are a = x1, b = x2, c = 3 if colour is "red": test/helpers/sklearn-shaped.ts writes
a CSV labelled by the same rule. Usage: sklearn_shaped_onnx.py OUT.onnx [--int-labels]
"""
import sys

import onnx
from onnx import TensorProto, helper

out = sys.argv[1]
int_labels = '--int-labels' in sys.argv[2:]
colours = ['blue', 'green', 'red']
labels = [10, 20, 30] if int_labels else ['a', 'b', 'c']

nodes = [
    helper.make_node('Concat', ['x1', 'x2'], ['numeric'], axis=1),
    helper.make_node('OneHotEncoder', ['colour'], ['colour_3d'], domain='ai.onnx.ml', cats_strings=colours, zeros=1),
    helper.make_node('Flatten', ['colour_3d'], ['colour_onehot'], axis=1),
    helper.make_node('Concat', ['numeric', 'colour_onehot'], ['features'], axis=1),
    helper.make_node(
        'LinearClassifier', ['features'], ['output_label', 'probabilities'], domain='ai.onnx.ml',
        # rows: classes a, b, c; columns: x1, x2, blue, green, red
        coefficients=[1.0, 0.0, 0.0, 0.0, 0.0,
                      0.0, 1.0, 0.0, 0.0, 0.0,
                      0.0, 0.0, 0.0, 0.0, 3.0],
        intercepts=[0.0, 0.0, 0.0], post_transform='SOFTMAX', multi_class=1,
        **({'classlabels_ints': labels} if int_labels else {'classlabels_strings': labels}),
    ),
    helper.make_node(
        'ZipMap', ['probabilities'], ['output_probability'], domain='ai.onnx.ml',
        **({'classlabels_int64s': labels} if int_labels else {'classlabels_strings': labels}),
    ),
]

# python3-onnx 1.12 has no helper.make_map_type_proto: the sequence of maps is built by hand.
zipmap_type = onnx.TypeProto()
map_type = zipmap_type.sequence_type.elem_type.map_type
map_type.key_type = TensorProto.INT64 if int_labels else TensorProto.STRING
map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT

graph = helper.make_graph(
    nodes,
    'sklearn_shaped',
    [
        helper.make_tensor_value_info('x1', TensorProto.FLOAT, [None, 1]),
        helper.make_tensor_value_info('x2', TensorProto.FLOAT, [None, 1]),
        helper.make_tensor_value_info('colour', TensorProto.STRING, [None, 1]),
    ],
    [
        helper.make_tensor_value_info('output_label', TensorProto.INT64 if int_labels else TensorProto.STRING, [None]),
        helper.make_value_info('output_probability', zipmap_type),
    ],
)
model = helper.make_model(
    graph,
    producer_name='skl2onnx-shaped',
    opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('ai.onnx.ml', 1)],
)
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, out)
