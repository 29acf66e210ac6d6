"""A ResNet-18-style network for 32×32 images, written here (torchvision cannot load next to the
pinned CPU torch): a 3×3 stem, four stages of two BasicBlocks (3×3 conv, BatchNorm, ReLU, 3×3 conv,
BatchNorm, identity or 1×1-conv shortcut), channels w, 2w, 4w, 8w with stride 2 from stage 2 on,
global average pooling and a linear classifier. ``width=64`` is the original ResNet-18 for CIFAR.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, n_in: int, n_out: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(n_in, n_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(n_out)
        self.conv2 = nn.Conv2d(n_out, n_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(n_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or n_in != n_out:
            self.shortcut = nn.Sequential(nn.Conv2d(n_in, n_out, 1, stride, bias=False), nn.BatchNorm2d(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


class ResNet18Style(nn.Module):
    def __init__(self, width: int = 8, n_classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        stages, n_in = [], width
        for k in range(4):
            n_out = width * 2**k
            stages.append(nn.Sequential(BasicBlock(n_in, n_out, 1 if k == 0 else 2), BasicBlock(n_out, n_out, 1)))
            n_in = n_out
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(n_in, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(h.mean(dim=(2, 3)))
