// Makes TF.js automatic differentiation (tf.grads, tf.variableGrads, Optimizer.minimize) available in this
// process, and checks that it is.
//
// TF.js finds each op's gradient in a global registry. The Node bundle of tfjs-core (dist/tf-core.node.js) fills
// none of it; the full `@tensorflow/tfjs` package and the Node bundle of `@tensorflow/tfjs-layers` register every
// gradient of tfjs-core (its register_all_gradients) into the one registry all copies share. fedtl already depends
// on tfjs-layers (the backbone runs as a tfjs-layers/graph model), so importing it is the whole registration;
// tfjs-core's own ESM module for it cannot be required from CommonJS.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';

/** The kernels whose gradients the adapter/head model differentiates through (dense layers, ReLU, log-softmax). */
const REQUIRED_GRADIENTS = ['BatchMatMul', 'Add', 'Relu', 'Multiply', 'Sum', 'Neg', 'RealDiv', 'LogSoftmax', 'Sub'] as const;

/**
 * Throws an Error naming the kernels without a registered gradient, so a build that lost the registration fails at
 * start-up with a clear message rather than with TF.js's "Cannot compute gradient" in the middle of a round.
 */
export function assertGradientsRegistered(): void {
  const missing = REQUIRED_GRADIENTS.filter((kernel) => tf.getGradient(kernel) === undefined);
  if (missing.length > 0) {
    throw new Error(`TF.js automatic differentiation: no gradient registered for ${missing.join(', ')} (expected @tensorflow/tfjs-layers to register tfjs-core's gradients)`);
  }
}

assertGradientsRegistered();
