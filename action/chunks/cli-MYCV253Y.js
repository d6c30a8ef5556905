import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{k as g,m as i,n as y,o as I,q as A,r as R,s as O,t as P,v as J,w as z}from"./chunk-J7OC2HSF.js";import{a as w,b as T,c as D,d as L}from"./chunk-MFXIFG6Q.js";import{S as E,T as k,h as f,i as $,s as h,t as b,v as S,w as N}from"./chunk-QVWKHXBI.js";import{a as l}from"./chunk-IWTVX5RH.js";import{readFileSync as F}from"node:fs";import{parseArgs as q}from"node:util";function U(t,r,o){let n=[];n.push(`Reboot plan ${I(r)} for ${i(t.cluster.name)} (${i(t.cluster.server)})`),n.push(`  plan ID ${r}`),n.push(`  ${t.nodes.length} planned, ${t.upToDate.length} up to date, ${t.unknown.length} not inspected`);for(let e of t.nodes){n.push("");let p=e.kernel.next===e.kernel.running?`${i(e.kernel.running)} (unchanged)`:`${i(e.kernel.running)} -> ${i(e.kernel.next)}`;n.push(`${e.order}. ${i(e.name)}  pool=${i(e.pool)}  ${e.method}  ${p}`);for(let s of e.evidence)n.push(`     evidence: ${i(s.detail)}`);e.pendingSince&&n.push(`     pending for ${A(o.getTime()-Date.parse(e.pendingSince))} (since ${i(e.pendingSince)})`),e.packages.requiringRebootTotal&&n.push(`     requires reboot: ${e.packages.requiringReboot.map(i).join(", ")}${e.packages.requiringRebootTotal>e.packages.requiringReboot.length?", ...":""}`),e.packages.sinceBootTotal&&n.push(`     changed since boot: ${e.packages.sinceBootTotal} package(s)`);let a=e.evictions.reduce((s,u)=>s+u.pods,0);n.push(`     evicts ${a} pod(s)${e.evictions.length?": "+e.evictions.map(s=>`${i(s.namespace)}/${i(s.name)}`).join(", "):""}`);for(let s of e.risks)n.push(`     ${s.blocking?"BLOCKING":"risk"} ${s.kind}: ${i(s.detail)}`)}if(t.unknown.length){n.push("","Not inspected:");for(let e of t.unknown)n.push(`  ${i(e.name)}: ${i(e.reason)}`)}return t.upToDate.length&&n.push("",`Up to date: ${t.upToDate.map(i).join(", ")}`),n.join(`
`)+`
`}l(U,"renderTerminal");var x=l(t=>Object.entries(t).map(([r,[,o,n]])=>`  --${r.padEnd(24)} ${n}${o?` (default: ${o})`:""}`).join(`
`),"flags"),G=`usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json] [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
      Exit 0 completed, 1 failed or stale, 3 paused by a gate (run again later).

Plan settings (the same names as the action's inputs):
${x(h)}

Execution settings (run):
${x(b)}

Azure / AKS settings (plan and run; the client secret comes from AZURE_CLIENT_SECRET):
${x(E)}
`,v=l(t=>r=>t.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${r}
`),"progress");async function pe(t,r={out:process.stdout,err:process.stderr}){let[o,...n]=t;if(!o||o==="--help"||o==="-h"||o==="help")return r.out.write(G),o?0:2;if(o!=="plan"&&o!=="run")return r.err.write(`reboot-pilot: unknown command "${o}"
${G}`),2;let e;try{let a=[...Object.keys(h),...Object.keys(E),"output",...o==="run"?[...Object.keys(b),"plan"]:[]],s=Object.fromEntries(a.map(u=>[u,{type:"string"}]));e=q({args:n,options:s,strict:!0,allowPositionals:!1}).values}catch(a){return r.err.write(`reboot-pilot: ${a.message}
`),2}let p=e.output??"text";if(!(o==="run"?["text","json"]:["text","md","json"]).includes(p))return r.err.write(`reboot-pilot: --output must be ${o==="run"?"text or json":"text, md or json"}, not "${p}"
`),2;if(o==="run")return W(e,p,r);try{let a=S(e),s=v(r.err),u=w(k(e),{log:s,getIDToken:g}),d=await T(u,a,s)??f(a),{plan:c,id:m}=await O(d,a,s,await D(u,s)),j=new Date;return p==="json"?r.out.write(JSON.stringify({planId:m,plan:JSON.parse(y(c))},null,2)+`
`):p==="md"?r.out.write(R(c,m,{now:j})):r.out.write(U(c,m,j)),0}catch(a){return C(a,r.err)}}l(pe,"cli");function C(t,r){return t instanceof $?(r.write(`reboot-pilot: error: ${t.message}
`),t.message.startsWith("invalid settings")?2:1):(r.write(`reboot-pilot: failed: ${t.stack??String(t)}
`),1)}l(C,"failed");async function W(t,r,o){if(!t.plan)return o.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let n=S(t),e=N(t),p;try{p=F(t.plan,"utf8")}catch(m){throw new $(`cannot read the plan file ${t.plan}: ${m.code??String(m)}`)}let a=J(p,t.plan),s=v(o.err),u=w(k(t),{needed:e["reboot-method"]==="azure-vmss",log:s,getIDToken:g}),d=await T(u,n,s)??f(n),c=await z(d,a,{plan:n,execute:e,log:s,...await L(u,e,d,s)});return o.out.write(r==="json"?JSON.stringify(c,null,2)+`
`:P(c)),c.state==="completed"?0:c.state==="paused"?3:1}catch(n){return C(n,o.err)}}l(W,"run");export{pe as cli};
