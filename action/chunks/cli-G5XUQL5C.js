import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{k as g,o as i,p as y,q as I,r as A,t as R,u as P,v as O,w as J,y as v,z}from"./chunk-LLPHB4BS.js";import{a as w,b as x,c as D,d as L}from"./chunk-BLZS2XTD.js";import{U as E,V as k,h as f,i as $,s as h,t as b,v as S,w as N}from"./chunk-KRAYORKB.js";import{a as l}from"./chunk-IWTVX5RH.js";import{readFileSync as q}from"node:fs";import{parseArgs as W}from"node:util";function U(t,o,s){let n=[];n.push(`Reboot plan ${I(o)} for ${i(t.cluster.name)} (${i(t.cluster.server)})`),n.push(`  plan ID ${o}`),n.push(`  ${t.nodes.length} planned, ${t.upToDate.length} up to date, ${t.unknown.length} not inspected`);for(let e of t.nodes){n.push("");let p=e.kernel.next===e.kernel.running?`${i(e.kernel.running)} (unchanged)`:`${i(e.kernel.running)} -> ${i(e.kernel.next)}`;n.push(`${e.order}. ${i(e.name)}  pool=${i(e.pool)}  ${e.method}  ${p}`);for(let r of e.evidence)n.push(`     evidence: ${i(r.detail)}`);if(e.pendingSince&&n.push(`     pending for ${R(s.getTime()-Date.parse(e.pendingSince))} (since ${i(e.pendingSince)})`),e.method==="reboot"){let r=e.fixes?.cves.length?`: ${e.fixes.cves.slice(0,10).join(", ")}${e.fixes.cveTotal>10?", ...":""}`:"";n.push(`     ${A(e.fixes,i)}${r}`)}e.packages.requiringRebootTotal&&n.push(`     requires reboot: ${e.packages.requiringReboot.map(i).join(", ")}${e.packages.requiringRebootTotal>e.packages.requiringReboot.length?", ...":""}`),e.packages.sinceBootTotal&&n.push(`     changed since boot: ${e.packages.sinceBootTotal} package(s)`);let a=e.evictions.reduce((r,u)=>r+u.pods,0);n.push(`     evicts ${a} pod(s)${e.evictions.length?": "+e.evictions.map(r=>`${i(r.namespace)}/${i(r.name)}`).join(", "):""}`);for(let r of e.risks)n.push(`     ${r.blocking?"BLOCKING":"risk"} ${r.kind}: ${i(r.detail)}`)}if(t.unknown.length){n.push("","Not inspected:");for(let e of t.unknown)n.push(`  ${i(e.name)}: ${i(e.reason)}`)}return t.upToDate.length&&n.push("",`Up to date: ${t.upToDate.map(i).join(", ")}`),n.join(`
`)+`
`}l(U,"renderTerminal");var T=l(t=>Object.entries(t).map(([o,[,s,n]])=>`  --${o.padEnd(24)} ${n}${s?` (default: ${s})`:""}`).join(`
`),"flags"),G=`usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json] [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
      Exit 0 completed, 1 failed or stale, 3 paused by a gate (run again later).

Plan settings (the same names as the action's inputs):
${T(h)}

Execution settings (run):
${T(b)}

Azure / AKS settings (plan and run; the client secret comes from AZURE_CLIENT_SECRET):
${T(E)}
`,C=l(t=>o=>t.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${o}
`),"progress");async function ce(t,o={out:process.stdout,err:process.stderr}){let[s,...n]=t;if(!s||s==="--help"||s==="-h"||s==="help")return o.out.write(G),s?0:2;if(s!=="plan"&&s!=="run")return o.err.write(`reboot-pilot: unknown command "${s}"
${G}`),2;let e;try{let a=[...Object.keys(h),...Object.keys(E),"output",...s==="run"?[...Object.keys(b),"plan"]:[]],r=Object.fromEntries(a.map(u=>[u,{type:"string"}]));e=W({args:n,options:r,strict:!0,allowPositionals:!1}).values}catch(a){return o.err.write(`reboot-pilot: ${a.message}
`),2}let p=e.output??"text";if(!(s==="run"?["text","json"]:["text","md","json"]).includes(p))return o.err.write(`reboot-pilot: --output must be ${s==="run"?"text or json":"text, md or json"}, not "${p}"
`),2;if(s==="run")return _(e,p,o);try{let a=S(e),r=C(o.err),u=w(k(e),{log:r,getIDToken:g}),d=await x(u,a,r)??f(a),{plan:c,id:m}=await O(d,a,r,await D(u,r)),j=new Date;return p==="json"?o.out.write(JSON.stringify({planId:m,plan:JSON.parse(y(c))},null,2)+`
`):p==="md"?o.out.write(P(c,m,{now:j})):o.out.write(U(c,m,j)),0}catch(a){return F(a,o.err)}}l(ce,"cli");function F(t,o){return t instanceof $?(o.write(`reboot-pilot: error: ${t.message}
`),t.message.startsWith("invalid settings")?2:1):(o.write(`reboot-pilot: failed: ${t.stack??String(t)}
`),1)}l(F,"failed");async function _(t,o,s){if(!t.plan)return s.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let n=S(t),e=N(t),p;try{p=q(t.plan,"utf8")}catch(m){throw new $(`cannot read the plan file ${t.plan}: ${m.code??String(m)}`)}let a=v(p,t.plan),r=C(s.err),u=w(k(t),{needed:e["reboot-method"]==="azure-vmss",log:r,getIDToken:g}),d=await x(u,n,r)??f(n),c=await z(d,a,{plan:n,execute:e,log:r,...await L(u,e,d,r)});return s.out.write(o==="json"?JSON.stringify(c,null,2)+`
`:J(c)),c.state==="completed"?0:c.state==="paused"?3:1}catch(n){return F(n,s.err)}}l(_,"run");export{ce as cli};
