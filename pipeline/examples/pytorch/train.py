"""Trains a small PyTorch network on a CSV and exports it with torch.onnx.export, ready for
`mlops models register` (docs/import.md). Needs only torch: Debian's python3-torch works
(/usr/bin/python3 train.py ...), no pip.

  train.py DATA.csv TARGET OUT.onnx [--task classification|regression] [--features a,b,c]

The features (default: every column but TARGET, in the CSV's order) are floats: the model takes
them as one float32 [N, F] input named "input"; register it with --features listing the same columns.
  classification: outputs "label" (int64 [N], the index of the class in sorted(class names))
                  and "probabilities" (float32 [N, classes]);
  regression:     output "value" (float32 [N, 1]).
"""
import argparse
import csv

import torch

parser = argparse.ArgumentParser()
parser.add_argument('data')
parser.add_argument('target')
parser.add_argument('out')
parser.add_argument('--task', choices=['classification', 'regression'], default='classification')
parser.add_argument('--features', help='comma-separated feature columns (default: all but the target)')
parser.add_argument('--epochs', type=int, default=300)
args = parser.parse_args()

with open(args.data, newline='') as f:
    rows = list(csv.DictReader(f))
features = args.features.split(',') if args.features else [c for c in rows[0].keys() if c != args.target]
X = torch.tensor([[float(r[c]) for c in features] for r in rows], dtype=torch.float32)
# Standardising inside the model keeps the exported graph self-contained: it takes raw values.
mean, std = X.mean(0), X.std(0)

torch.manual_seed(0)
classes = sorted({r[args.target] for r in rows}) if args.task == 'classification' else None
width = len(classes) if classes else 1
net = torch.nn.Sequential(torch.nn.Linear(len(features), 16), torch.nn.ReLU(), torch.nn.Linear(16, width))


class Exported(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = net
        self.register_buffer('mean', mean)
        self.register_buffer('std', std)

    def forward(self, x):
        out = self.net((x - self.mean) / self.std)
        if classes is None:
            return out
        probabilities = torch.softmax(out, dim=1)
        return torch.argmax(probabilities, dim=1), probabilities


model = Exported()
optimiser = torch.optim.Adam(net.parameters(), lr=0.02)
if classes:
    y = torch.tensor([classes.index(r[args.target]) for r in rows])
    loss_fn = torch.nn.CrossEntropyLoss()
else:
    y = torch.tensor([[float(r[args.target])] for r in rows])
    loss_fn = torch.nn.MSELoss()
for _ in range(args.epochs):
    optimiser.zero_grad()
    loss = loss_fn(net((X - mean) / std), y)
    loss.backward()
    optimiser.step()
print(f'trained on {len(rows)} rows, {len(features)} features ({", ".join(features)}): final loss {loss.item():.4f}')

model.eval()
outputs = ['label', 'probabilities'] if classes else ['value']
torch.onnx.export(
    model, X[:1], args.out, input_names=['input'], output_names=outputs,
    dynamic_axes={name: {0: 'N'} for name in ['input', *outputs]}, opset_version=13,
)
print(f'exported {args.out}: input float32 [N, {len(features)}] -> {", ".join(outputs)}')
