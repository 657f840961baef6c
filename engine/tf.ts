// The one place the engine imports TensorFlow.js from, so every module shares one tfjs-core
// instance (and the kernels engine/backend.ts registers on it).
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's entry registers no gradients. Its ESM file that does cannot load in plain Node
// (extensionless imports), so the umbrella package registers them, on this same tfjs-core.
import '@tensorflow/tfjs';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Variable, Rank } from '@tensorflow/tfjs-core';

// Production mode: no console banners from tfjs (the engine reports through events, not stdout).
tf.env().set('PROD', true);
