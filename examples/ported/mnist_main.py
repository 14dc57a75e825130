"""PyTorch's official MNIST example, pytorch/examples mnist/main.py (at 77f55b9), ported to tinygrad_np.

Upstream's file line for line, changed only where tinygrad_np spells something differently; each changed line says
why in a comment ending it. Run it as upstream's: ``python examples/ported/mnist_main.py --epochs 1``. Without MNIST
(no ``TINYGRAD_NP_DATA``, nothing cached, no network) it trains on the bundled sample and says so on stderr.

Changed lines, not counting imports: 10 of upstream's 141 (7.1%): lines 32, 39, 59, 62, 63, 97, 104, 124, 125, 137.
The imports import tinygrad_np under the name ``torch``, so that ``torch.flatten``, ``torch.no_grad``,
``torch.manual_seed`` are ours as written; spelled ``tg`` instead, three more lines (27, 57, 99) would change.
"""
import argparse
import tinygrad_np as torch  # changed import: tinygrad_np under torch's name
import tinygrad_np.nn as nn
import tinygrad_np.nn.functional as F
import tinygrad_np.optim as optim
from tinygrad_np.data import datasets, transforms
from tinygrad_np.optim.lr_scheduler import StepLR


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, axis=1)  # changed: NumPy's axis=, not dim=
        return output


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target  # changed: the labels are an int64 array (no .to), as collated here
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % args.log_interval == 0:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))
            if args.dry_run:
                break


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target  # changed: the labels are an int64 array, as at line 39
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(axis=1, keepdims=True)  # changed: NumPy's axis=, keepdims=
            correct += pred.eq(target.reshape(pred.shape)).sum().item()  # changed: reshape(shape), not view_as

    test_loss /= len(test_loader.dataset)

    print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
        test_loss, correct, len(test_loader.dataset),
        100. * correct / len(test_loader.dataset)))


def main():
    # Training settings
    parser = argparse.ArgumentParser(description='PyTorch MNIST Example')
    parser.add_argument('--batch-size', type=int, default=64, metavar='N',
                        help='input batch size for training (default: 64)')
    parser.add_argument('--test-batch-size', type=int, default=1000, metavar='N',
                        help='input batch size for testing (default: 1000)')
    parser.add_argument('--epochs', type=int, default=14, metavar='N',
                        help='number of epochs to train (default: 14)')
    parser.add_argument('--lr', type=float, default=1.0, metavar='LR',
                        help='learning rate (default: 1.0)')
    parser.add_argument('--gamma', type=float, default=0.7, metavar='M',
                        help='Learning rate step gamma (default: 0.7)')
    parser.add_argument('--no-accel', action='store_true',
                        help='disables accelerator')
    parser.add_argument('--dry-run', action='store_true',
                        help='quickly check a single pass')
    parser.add_argument('--seed', type=int, default=1, metavar='S',
                        help='random seed (default: 1)')
    parser.add_argument('--log-interval', type=int, default=10, metavar='N',
                        help='how many batches to wait before logging training status')
    parser.add_argument('--save-model', action='store_true',
                        help='For Saving the current Model')
    args = parser.parse_args()

    use_accel = False  # changed: NumPy on the CPU, no accelerator

    torch.manual_seed(args.seed)

    if use_accel:
        device = torch.accelerator.current_accelerator()
    else:
        device = "cpu"  # changed: a device is the string "cpu" (tensors and modules accept .to("cpu"))

    train_kwargs = {'batch_size': args.batch_size}
    test_kwargs = {'batch_size': args.test_batch_size}
    if use_accel:
        accel_kwargs = {'num_workers': 1,
                        'persistent_workers': True,
                       'pin_memory': True,
                       'shuffle': True}
        train_kwargs.update(accel_kwargs)
        test_kwargs.update(accel_kwargs)

    transform=transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize((0.1307,), (0.3081,))
        ])
    dataset1 = datasets.MNIST('../data', train=True, download=True,
                       transform=transform)
    dataset2 = datasets.MNIST('../data', train=False,
                       transform=transform)
    train_loader = torch.data.DataLoader(dataset1,**train_kwargs)  # changed: torch.utils.data is tinygrad_np.data
    test_loader = torch.data.DataLoader(dataset2, **test_kwargs)  # changed: torch.utils.data is tinygrad_np.data

    model = Net().to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        test(model, device, test_loader)
        scheduler.step()

    if args.save_model:
        nn.save(model.state_dict(), "mnist_cnn.npz")  # changed: nn.save writes .npz (no pickle), not torch.save


if __name__ == '__main__':
    main()
