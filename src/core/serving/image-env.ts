// The tensorflow/serving Docker image's launch convention: no path on the command line, the model named by the
// environment. The image sets MODEL_BASE_PATH=/models and MODEL_NAME=model and runs
// `tensorflow_model_server --model_name=${MODEL_NAME} --model_base_path=${MODEL_BASE_PATH}/${MODEL_NAME}`.
// Users also write MODEL_BASE_PATH=/models/mnist (the model's own base directory), so that is accepted when
// $MODEL_BASE_PATH/$MODEL_NAME does not exist.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { isS3Url } from '../storage/s3-url.js';

export const IMAGE_MODELS_DIR = '/models';

const isDir = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();

/**
 * The model base path and name the environment configures, or undefined when neither MODEL_NAME nor MODEL_BASE_PATH
 * is set. `name` from a flag (--model_name) wins over MODEL_NAME.
 */
export function modelFromImageEnv(env: NodeJS.ProcessEnv, flagName?: string): { name: string; basePath: string } | undefined {
  const envName = env.MODEL_NAME?.trim() || undefined;
  const envBase = env.MODEL_BASE_PATH?.trim() || undefined;
  if (!envName && !envBase) return undefined;
  const parent = envBase ?? IMAGE_MODELS_DIR;
  // Object storage (MODEL_BASE_PATH=s3://bucket/models): the image's layout, joined as a URL (path.join would fold
  // the "//"); nothing to stat here, the server lists it.
  if (isS3Url(parent)) {
    const base = parent.replace(/\/+$/, '');
    return envName ? { name: flagName ?? envName, basePath: `${base}/${envName}` } : { name: flagName ?? base.split('/').pop()!, basePath: base };
  }
  if (envName) {
    const joined = path.join(parent, envName);
    // The image's layout ($MODEL_BASE_PATH/$MODEL_NAME) when it exists, else MODEL_BASE_PATH as the model's own base.
    const basePath = isDir(joined) || !envBase ? joined : envBase;
    return { name: flagName ?? envName, basePath };
  }
  return { name: flagName ?? path.basename(path.resolve(parent)), basePath: parent };
}

/** What to say when no model is configured at all: every way there is. */
export const NO_MODEL_MESSAGE =
  'serve needs a model: a base path (tfsvc serve DIR, or --model_base_path=DIR), --model_config_file=FILE, or the ' +
  'tensorflow/serving image\'s environment (MODEL_NAME=name, with MODEL_BASE_PATH defaulting to /models, so the model is /models/name)';
