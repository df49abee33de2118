"""The README's "Analyse your own PyTorch model", end to end on the PyTorch side.

Trains the README's nn.Sequential on an image folder (torchvision's ImageFolder layout: ROOT/train/<class>/*.png,
ROOT/test/<class>/*.png), prints its test accuracy as PyTorch computes it, and saves the state dict with safetensors and
the Glassbox spec, so that

    glassbox evaluate my-net.safetensors --data folder:ROOT --normalize 0.2860/0.3530

can be compared with it. Usage (after Benchmarks/pytorch/setup.sh and `pip install safetensors torchvision pillow`):

    glassbox datasets export fashion-mnist --limit 6000 --out my-images
    Benchmarks/venv/bin/python Benchmarks/pytorch/your_model.py my-images my-net.safetensors
"""
import sys

import torch
from torch import nn
from safetensors.torch import save_file
from torchvision import datasets, transforms as T

root, out = sys.argv[1], sys.argv[2]
torch.manual_seed(0)

# --- the README's lines, from here ---
tf = T.Compose([T.Grayscale(), T.ToTensor(), T.Normalize((0.2860,), (0.3530,))])
train = datasets.ImageFolder(f"{root}/train", transform=tf)
model = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))
opt = torch.optim.Adam(model.parameters(), lr=0.002)
for epoch in range(3):
    for x, y in torch.utils.data.DataLoader(train, batch_size=64, shuffle=True):
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

save_file(model.state_dict(), out, metadata={
    "glassbox.spec": "input 1x28x28; conv 16 k5 p2; relu; maxpool 2; conv 32 k3 p1; relu; maxpool 2; "
                     "flatten; linear 64; relu; linear 10"})
# --- to here ---

test = datasets.ImageFolder(f"{root}/test", transform=tf)
model.eval()
correct, loss, n = 0, 0.0, 0
with torch.no_grad():
    for x, y in torch.utils.data.DataLoader(test, batch_size=1000):
        logits = model(x)
        correct += (logits.argmax(1) == y).sum().item()
        loss += nn.functional.cross_entropy(logits, y, reduction="sum").item()
        n += len(y)
print(f"PyTorch: test accuracy {correct / n:.4f}  loss {loss / n:.4f}  ({n} samples)")
print(f"saved {out}")
