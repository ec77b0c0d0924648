"""fastnn.train: the training loop (``Trainer``), callbacks and ``History``.

Examples
--------
>>> import fastnn, fastnn.nn as nn
>>> from fastnn.train import Trainer, EarlyStopping
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> # trainer = Trainer(model, nn.CrossEntropyLoss(), fastnn.optim.Adam(model.parameters()),
>>> #                   callbacks=[EarlyStopping(patience=3)])
>>> # history = trainer.fit(train_loader, epochs=20, val_loader=val_loader)
"""
from .callbacks import Callback, EarlyStopping, LambdaCallback, ModelCheckpoint
from .history import History
from .metrics import METRICS
from .trainer import Trainer

__all__ = ["Trainer", "History", "Callback", "EarlyStopping", "ModelCheckpoint",
           "LambdaCallback", "METRICS"]
