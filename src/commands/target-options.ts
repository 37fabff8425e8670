// Flags that `bench` and `warmup` share, declared once so both commands spell and document them alike: which model
// version of the endpoint to call (resolved by core/load/target.ts) and the tf.Example features to generate.
import { Option, type Command } from 'commander';
import type { SecurityFlags } from '../core/load/security.js';

/** The client security flags as commander hands them over. */
export type { SecurityFlags };

/** The ClientSecurity the flags ask for (lazy import: the load stack stays unloaded until a command runs). */
export async function securityOf(flags: SecurityFlags) {
  const { securityFromFlags } = await import('../core/load/security.js');
  return securityFromFlags(flags);
}

/** --model, --version, --model-version, --label, --protocol and the security flags (the fields of TargetOptions besides --signature). */
export function addTargetOptions(cmd: Command): Command {
  return addSecurityOptions(addProtocolOption(cmd))
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

/** --ca, --cert/--key, --header, --token-file, --grpc-tls: reaching a secured endpoint (core/load/security.ts). */
export function addSecurityOptions(cmd: Command): Command {
  return cmd
    .option('--ca <file>', 'PEM CA certificate(s) to trust for https:// and --grpc-tls')
    .option('--cert <file>', 'client certificate (PEM) for mTLS; with --key')
    .option('--key <file>', 'client private key (PEM) for mTLS')
    .option('--header <"Name: value">', "extra request header, repeatable (e.g. 'Authorization: Bearer ...')", (v: string, prev: string[]) => [...prev, v], [])
    .option('--token-file <file>', 'send the token in this file as "Authorization: Bearer <token>"')
    .option('--grpc-tls', 'gRPC over TLS (trusting --ca and the system CAs; implied by an https:// URL with --protocol grpc)');
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
