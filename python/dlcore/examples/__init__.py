"""The course notes' case studies, each a short script: `python -m dlcore.examples.<name>`.

linear_mse          a linear classifier trained with MSE on one-hot targets
softmax_regression  softmax regression with cross-entropy
mlp                 a two-layer MLP, 784-100-10
deep_mlp            a deeper MLP with dropout and batch norm
cnn                 the classic CNN: conv 1->10 k5, max-pool, ReLU, conv 10->20 k5, dropout2d, max-pool, ReLU,
                    dense 320->50->10
resnet              a small ResNet-style CNN (skip connections)
optimizers          SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta and Adam on one chart
permuted            the pixel-permutation experiment: an MLP does not care, a CNN does
sequence            an LSTM / GRU reading an image row by row
"""
