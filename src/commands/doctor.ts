// `tfsvc doctor`: which engine backends run on this machine, every WebGPU adapter found (vendor, architecture,
// device, key limits), and why a backend is unavailable. The engine loads inside the action (start-up stays fast).
import type { Command } from 'commander';

const MiB = 1024 * 1024;

export function register(program: Command): void {
  program
    .command('doctor')
    .description('list the engine backends that run here, each WebGPU adapter, and why a backend is unavailable')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { diagnose } = await import('../core/engine/doctor.js');
      const r = await diagnose();
      if (flags.json) {
        process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        return;
      }
      const lines = [`node ${r.node} on ${r.platform}`, '', 'backends:'];
      const width = Math.max(...r.backends.map((b) => b.name.length));
      for (const b of r.backends) lines.push(`  ${b.name.padEnd(width)}  ${b.available ? 'available  ' : 'unavailable'}  ${b.detail}`);
      lines.push(`  --backend auto picks: ${r.auto}`, '', `WebGPU adapters: ${r.adapters.length === 0 ? 'none' : ''}`);
      const { identicalAdaptersNote } = r.adapters.length > 0 ? await import('../core/engine/webgpu.js') : { identicalAdaptersNote: () => undefined };
      for (const a of r.adapters) {
        lines.push(`  ${a.name} [${a.backend}${a.software ? ', software' : ''}]${a.count > 1 ? ` x${a.count}` : ''}`);
        const identical = identicalAdaptersNote(a);
        if (identical) lines.push(`    ${identical}`);
        lines.push(`    vendor ${a.vendor || '?'}, architecture ${a.architecture || '?'}, device ${a.device || '?'}`);
        if (a.description) lines.push(`    ${a.description}`);
        const l = a.limits;
        lines.push(
          `    maxBufferSize ${(l.maxBufferSize! / MiB).toFixed(0)} MiB, maxStorageBufferBindingSize ${(l.maxStorageBufferBindingSize! / MiB).toFixed(0)} MiB, ` +
            `workgroup storage ${l.maxComputeWorkgroupStorageSize} B, invocations/workgroup ${l.maxComputeInvocationsPerWorkgroup}, ` +
            `workgroups/dimension ${l.maxComputeWorkgroupsPerDimension}`,
        );
        lines.push(`    shader-f16 ${a.features.includes('shader-f16') ? 'yes' : 'no'}, timestamp-query ${a.features.includes('timestamp-query') ? 'yes' : 'no'}, subgroups ${a.features.includes('subgroups') ? 'yes' : 'no'}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
