// Flags that `bench` and `warmup` share, declared once so both commands spell and document them alike: which model
// version of the endpoint to call (resolved by core/load/target.ts) and the tf.Example features to generate.
import { Option, type Command } from 'commander';

/** --model, --version, --model-version, --label, --protocol (the fields of TargetOptions besides --signature). */
export function addTargetOptions(cmd: Command): Command {
  return addProtocolOption(cmd)
    .option('--model <name>', 'model name (when URL is a server)')
    .option('--version <n>', 'model version (default: the latest the server has)')
    .option('--model-version <n>', 'another name for --version')
    .option('--label <label>', 'model version label');
}

/** --protocol rest|grpc: which TF Serving API to call (a grpc://host:8500 URL implies grpc). */
export function addProtocolOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--protocol <p>', "rest, or grpc: TF Serving's PredictionService (a grpc://host:8500 URL implies it)").choices(['rest', 'grpc']),
  );
}

/** --feature NAME=KIND, repeatable, collected into a list (parse each with load/examples.ts parseFeatureFlag). */
export function addFeatureOption(cmd: Command): Command {
  return cmd.option(
    '--feature <name=kind>',
    'classify/regress signatures: a tf.Example feature to generate, repeatable: x=float, n=int64, w=bytes[3]',
    (value: string, previous: string[]) => [...previous, value],
    [],
  );
}
