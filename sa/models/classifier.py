"""The paper's two-layer CNN that scores samples (its MNIST classifier, Appendix B.1).

Two 5x5 convolutions (10 and 20 channels) with batch norm, max pooling and dropout, then a
50-unit hidden layer. At 28x28 the shapes are the paper's exactly; smaller images (8x8 digits)
get padding 2 so that both convolutions fit. ``features`` is the 50-unit layer, which the
offline tier uses in place of Inception features.
"""

from __future__ import annotations

import torch
from torch import nn


class TwoLayerCNN(nn.Module):
    def __init__(self, in_channels: int, image_size: int, num_classes: int, hidden: int = 50):
        super().__init__()
        pad = 0 if image_size >= 28 else 2
        side = ((image_size + 2 * pad - 4) // 2 + 2 * pad - 4) // 2
        self.convs = nn.Sequential(
            nn.Conv2d(in_channels, 10, 5, padding=pad), nn.BatchNorm2d(10), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(10, 20, 5, padding=pad), nn.BatchNorm2d(20), nn.Dropout2d(), nn.MaxPool2d(2), nn.ReLU(),
            nn.Flatten(),
        )
        self.hidden = nn.Sequential(nn.Linear(20 * side * side, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(), nn.Linear(hidden, num_classes))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(self.convs(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class ResNet34Classifier(nn.Module):
    """torchvision's ResNet34, ImageNet-pretrained, with a new head: the paper's CIFAR10/STL10 classifier.

    Inputs in [0, 1] are normalised with ImageNet statistics inside. ``pretrained`` needs the
    ImageNet weights (torchvision downloads them once); offline, construction fails in one line.
    """

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, num_classes: int, pretrained: bool = True):
        super().__init__()
        import torchvision

        weights = torchvision.models.ResNet34_Weights.IMAGENET1K_V1 if pretrained else None
        try:
            self.net = torchvision.models.resnet34(weights=weights)
        except Exception as err:  # URLError and friends when offline
            raise RuntimeError(f"ResNet34 ImageNet weights could not be loaded ({type(err).__name__}); "
                               "fetch them with `snakemake download_all` on a machine with internet") from None
        self.net.fc = nn.Linear(self.net.fc.in_features, num_classes)
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1), persistent=False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        net = self.net
        x = (x - self.mean) / self.std
        x = net.maxpool(net.relu(net.bn1(net.conv1(x))))
        x = net.layer4(net.layer3(net.layer2(net.layer1(x))))
        return torch.flatten(net.avgpool(x), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.fc(self.features(x))
