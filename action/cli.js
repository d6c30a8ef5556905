#!/usr/bin/env node
import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{a as c,e as f,f as $,g as h,h as g,i as k,j as b,k as w,l as j,m as n,n as v,o as T}from"./chunks/chunk-H4UUYMRN.js";import{parseArgs as I}from"node:util";function x(o,r,a){let t=[];t.push(`Reboot plan ${w(r)} for ${n(o.cluster.name)} (${n(o.cluster.server)})`),t.push(`  plan ID ${r}`),t.push(`  ${o.nodes.length} planned, ${o.upToDate.length} up to date, ${o.unknown.length} not inspected`);for(let e of o.nodes){t.push("");let p=e.kernel.next===e.kernel.running?`${n(e.kernel.running)} (unchanged)`:`${n(e.kernel.running)} -> ${n(e.kernel.next)}`;t.push(`${e.order}. ${n(e.name)}  pool=${n(e.pool)}  ${e.method}  ${p}`);for(let i of e.evidence)t.push(`     evidence: ${n(i.detail)}`);e.pendingSince&&t.push(`     pending for ${v(a.getTime()-Date.parse(e.pendingSince))} (since ${n(e.pendingSince)})`),e.packages.requiringRebootTotal&&t.push(`     requires reboot: ${e.packages.requiringReboot.map(n).join(", ")}${e.packages.requiringRebootTotal>e.packages.requiringReboot.length?", ...":""}`),e.packages.sinceBootTotal&&t.push(`     changed since boot: ${e.packages.sinceBootTotal} package(s)`);let s=e.evictions.reduce((i,u)=>i+u.pods,0);t.push(`     evicts ${s} pod(s)${e.evictions.length?": "+e.evictions.map(i=>`${n(i.namespace)}/${n(i.name)}`).join(", "):""}`);for(let i of e.risks)t.push(`     ${i.blocking?"BLOCKING":"risk"} ${i.kind}: ${n(i.detail)}`)}if(o.unknown.length){t.push("","Not inspected:");for(let e of o.unknown)t.push(`  ${n(e.name)}: ${n(e.reason)}`)}return o.upToDate.length&&t.push("",`Up to date: ${o.upToDate.map(n).join(", ")}`),t.join(`
`)+`
`}c(x,"renderTerminal");var S=`usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]

Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
Settings (same names as the action's inputs):
${Object.entries(g).map(([o,[,r,a]])=>`  --${o.padEnd(24)} ${a}${r?` (default: ${r})`:""}`).join(`
`)}
  --output                   text (default), md (GitHub Markdown) or json ({ planId, plan })
`;async function y(o,r={out:process.stdout,err:process.stderr}){let[a,...t]=o;if(!a||a==="--help"||a==="-h"||a==="help")return r.out.write(S),a?0:2;if(a!=="plan")return r.err.write(`reboot-pilot: unknown command "${a}"
${S}`),2;let e;try{let s=Object.fromEntries([...Object.keys(g),"output"].map(i=>[i,{type:"string"}]));e=I({args:t,options:s,strict:!0,allowPositionals:!1}).values}catch(s){return r.err.write(`reboot-pilot: ${s.message}
`),2}let p=e.output??"text";if(!["text","md","json"].includes(p))return r.err.write(`reboot-pilot: --output must be text, md or json, not "${p}"
`),2;try{let s=k(e),i=$({kubeconfig:s.kubeconfig||void 0,context:s.context||void 0}),u=h(i),{plan:l,id:d}=await j(u,s,E=>r.err.write(`reboot-pilot: ${E}
`)),m=new Date;return p==="json"?r.out.write(JSON.stringify({planId:d,plan:JSON.parse(b(l))},null,2)+`
`):p==="md"?r.out.write(T(l,d,{now:m})):r.out.write(x(l,d,m)),0}catch(s){return s instanceof f?(r.err.write(`reboot-pilot: error: ${s.message}
`),s.message.startsWith("invalid settings")?2:1):(r.err.write(`reboot-pilot: failed: ${s.stack??String(s)}
`),1)}}c(y,"cli");var N=process.argv[1]??"";if(/(?:^|[/\\])(cli\.(?:ts|js)|reboot-pilot)$/.test(N)){let o=await y(process.argv.slice(2));process.stdout.write("",()=>process.exit(o))}export{y as cli};
