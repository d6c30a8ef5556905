import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{k as b,m as a,n as A,o as I,q as y,r as L,s as R,t as P,v as U,w as G}from"./chunk-5JORQAOO.js";import{a as T,b as x,c as O,d as z}from"./chunk-RE6QA25S.js";import{I as h,J as w,g as E,i as $,t as f,u as S,w as k,x as j}from"./chunk-VQKGLC5U.js";import{a as l}from"./chunk-IWTVX5RH.js";import{readFileSync as v}from"node:fs";import{parseArgs as q}from"node:util";function J(t,r,o){let n=[];n.push(`Reboot plan ${I(r)} for ${a(t.cluster.name)} (${a(t.cluster.server)})`),n.push(`  plan ID ${r}`),n.push(`  ${t.nodes.length} planned, ${t.upToDate.length} up to date, ${t.unknown.length} not inspected`);for(let e of t.nodes){n.push("");let p=e.kernel.next===e.kernel.running?`${a(e.kernel.running)} (unchanged)`:`${a(e.kernel.running)} -> ${a(e.kernel.next)}`;n.push(`${e.order}. ${a(e.name)}  pool=${a(e.pool)}  ${e.method}  ${p}`);for(let s of e.evidence)n.push(`     evidence: ${a(s.detail)}`);e.pendingSince&&n.push(`     pending for ${y(o.getTime()-Date.parse(e.pendingSince))} (since ${a(e.pendingSince)})`),e.packages.requiringRebootTotal&&n.push(`     requires reboot: ${e.packages.requiringReboot.map(a).join(", ")}${e.packages.requiringRebootTotal>e.packages.requiringReboot.length?", ...":""}`),e.packages.sinceBootTotal&&n.push(`     changed since boot: ${e.packages.sinceBootTotal} package(s)`);let i=e.evictions.reduce((s,u)=>s+u.pods,0);n.push(`     evicts ${i} pod(s)${e.evictions.length?": "+e.evictions.map(s=>`${a(s.namespace)}/${a(s.name)}`).join(", "):""}`);for(let s of e.risks)n.push(`     ${s.blocking?"BLOCKING":"risk"} ${s.kind}: ${a(s.detail)}`)}if(t.unknown.length){n.push("","Not inspected:");for(let e of t.unknown)n.push(`  ${a(e.name)}: ${a(e.reason)}`)}return t.upToDate.length&&n.push("",`Up to date: ${t.upToDate.map(a).join(", ")}`),n.join(`
`)+`
`}l(J,"renderTerminal");var m=l(t=>Object.entries(t).map(([r,[,o,n]])=>`  --${r.padEnd(24)} ${n}${o?` (default: ${o})`:""}`).join(`
`),"flags"),M=`usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json]
                         [--SETTING VALUE ...]
  Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  Exit codes: 0 plan printed, 1 failure, 2 bad usage or settings.

Plan settings (the same names as the action's inputs):
${m(f)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${m(h)}
`,W=`usage: reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                        [--SETTING VALUE ...]
  Executes a plan (as printed by plan --output json): one node at a time, resumable.
  Exit codes: 0 completed, 1 failed or stale, 2 bad usage or settings, 3 paused by a gate
  (run the same plan again later: finished nodes are skipped).

Plan settings (the same names as the action's inputs):
${m(f)}

Execution settings:
${m(S)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${m(h)}
`,D=`usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                   [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
  reboot-pilot plan --help, reboot-pilot run --help
      A command's settings.

Exit codes: 0 done, 1 failure (run: failed or stale), 2 bad usage or settings,
3 run paused by a gate (run the same plan again later).
`,K=["--help","-h"],_=l(t=>r=>t.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${r}
`),"progress");async function me(t,r={out:process.stdout,err:process.stderr}){let[o,...n]=t;if(!o||o==="--help"||o==="-h"||o==="help")return r.out.write(D),o?0:2;if(o!=="plan"&&o!=="run")return r.err.write(`reboot-pilot: unknown command "${o}"
${D}`),2;if(n.some(i=>K.includes(i)))return r.out.write(o==="run"?W:M),0;let e;try{let i=[...Object.keys(f),...Object.keys(h),"output",...o==="run"?[...Object.keys(S),"plan"]:[]],s=Object.fromEntries(i.map(u=>[u,{type:"string"}]));e=q({args:n,options:s,strict:!0,allowPositionals:!1}).values}catch(i){return r.err.write(`reboot-pilot: ${i.message}
`),2}let p=e.output??"text";if(!(o==="run"?["text","json"]:["text","md","json"]).includes(p))return r.err.write(`reboot-pilot: --output must be ${o==="run"?"text or json":"text, md or json"}, not "${p}"
`),2;if(o==="run")return V(e,p,r);try{let i=k(e),s=_(r.err),u=T(w(e),{log:s,getIDToken:b}),g=await x(u,i,s)??$(i),{plan:c,id:d}=await R(g,i,s,await O(u,s)),N=new Date;if(p==="json"){let F=JSON.parse(A(c));r.out.write(JSON.stringify({planId:d,plan:F},null,2)+`
`)}else p==="md"?r.out.write(L(c,d,{now:N})):r.out.write(J(c,d,N));return 0}catch(i){return C(i,r.err)}}l(me,"cli");function C(t,r){return t instanceof E?(r.write(`reboot-pilot: error: ${t.message}
`),t.message.startsWith("invalid settings")?2:1):(r.write(`reboot-pilot: failed: ${t.stack??String(t)}
`),1)}l(C,"failed");async function V(t,r,o){if(!t.plan)return o.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let n=k(t),e=j(t),p;try{p=v(t.plan,"utf8")}catch(d){throw new E(`cannot read the plan file ${t.plan}: ${d.code??String(d)}`)}let i=U(p,t.plan),s=_(o.err),u=T(w(t),{needed:e["reboot-method"]==="azure-vmss",log:s,getIDToken:b}),g=await x(u,n,s)??$(n),c=await G(g,i,{plan:n,execute:e,log:s,...await z(u,e,g,s)});return o.out.write(r==="json"?JSON.stringify(c,null,2)+`
`:P(c)),c.state==="completed"?0:c.state==="paused"?3:1}catch(n){return C(n,o.err)}}l(V,"run");export{me as cli};
