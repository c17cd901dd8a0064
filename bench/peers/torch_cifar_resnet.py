"""The CIFAR ResNet-20 of He et al. (option-A shortcuts) in PyTorch, with leantrain's parameter
names: shared by bench/peers/pytorch_step.py and tests/fixtures/make_zoo.py (PyTorch-only helpers;
leantrain never imports them)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class ShortcutA(nn.Module):
    """Subsample by the stride, zero-pad the new channels (half before, the rest after)."""

    def __init__(self, planes, stride):
        super().__init__()
        self.planes, self.stride = planes, stride

    def forward(self, x):
        extra = self.planes - x.shape[1]
        return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, extra // 2, extra - extra // 2))


class Block(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = ShortcutA(planes, stride) if stride != 1 or cin != planes else nn.Sequential()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin, layers = 16, []
        for planes, stride in [(16, 1), (32, 2), (64, 2)]:
            blocks = []
            for i in range(3):
                blocks.append(Block(cin, planes, stride if i == 0 else 1))
                cin = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        y = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))
