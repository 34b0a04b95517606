"""The workloads by name: each maps `quick` to a list of harness.Case."""

import w1_demo
import w2_chain
import w3_mlp
import w5_elementwise
import w6_lenet
import w7_rnn

WORKLOADS = {
    "W1": w1_demo.cases,
    "W2": w2_chain.cases,
    "W3": w3_mlp.cases_w3,
    "W4": w3_mlp.cases_w4,
    "W5": w5_elementwise.cases,
    "W6": w6_lenet.cases,
    "W7": w7_rnn.cases,
}

TITLES = {
    "W1": "W1 micrograd demo step: MLP 2-16-16-1 of single-number Values, 100 points, hinge loss",
    "W2": "W2 chain of N links `y = y * 1.0001 + 0.0001` on a scalar, then backward",
    "W3": "W3 MLP 64-128-128-10 (ReLU) step: softmax cross-entropy, backward, SGD",
    "W4": "W4 MLP 1024-1024-1024-1024 (ReLU) step, batch 256: matmul-bound",
    "W5": "W5 200 chained elementwise ops (* 1.0001, + 0.1, tanh, exp), sum, backward",
    "W6": "W6 LeNet-5 step, batch 64 of 1x28x28 images, float32: cross-entropy, backward, SGD",
    "W7": "W7 LSTM and GRU (32 -> 128) step on 32 sequences of 35 steps: MSE, backward, SGD",
}
