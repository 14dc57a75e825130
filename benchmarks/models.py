"""Models the benchmarks time, written once against either framework: pass tinygrad_np's ``nn`` and
``nn.functional``, or torch's. The same parameter names in both, so one loads the other's state_dict."""


def residual_cnn(nn):
    """A small residual CNN as a PyTorch user writes one: a stem conv 1->16 with BatchNorm, a residual block of
    two 3x3 convs with BatchNorm at 16 channels, a strided 3x3 conv 16->32 with BatchNorm, a residual block at
    32 channels, max pool 2, global average pool, dropout 0.1, a linear head to 10 classes (28,410 parameters)."""

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)
            self.conv2, self.bn2 = nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)

        def forward(self, x):
            h = self.bn1(self.conv1(x)).relu()  # .relu() is both frameworks' method; a closure over F the jit
            return (x + self.bn2(self.conv2(h))).relu()  # could not follow into a class made in a function

    class ResidualCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem, self.bn = nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16)
            self.block1 = Block(16)
            self.down, self.bn_down = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(32)
            self.block2 = Block(32)
            self.pool, self.gap = nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1)
            self.drop, self.head = nn.Dropout(0.1), nn.Linear(32, 10)

        def forward(self, x):
            x = self.bn(self.stem(x)).relu()
            x = self.block1(x)
            x = self.bn_down(self.down(x)).relu()
            x = self.block2(x)
            x = self.gap(self.pool(x))
            return self.head(self.drop(x.reshape(x.shape[0], -1)))

    return ResidualCNN()


def lenet5(nn):
    """LeNet-5 as benchmarks/lenet.py has it: conv 6@5x5, pool, conv 16@5x5, pool, 120, 84, 10."""
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))
