import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{B as G,C as v,k as $,o as i,p as A,q as I,s as y,t as L,v as P,w as R,x as U,y as O}from"./chunk-Q2AGOHIZ.js";import{a as w,b as T,c as z,d as J}from"./chunk-YC6WYRZM.js";import{J as h,K as x,h as b,j as E,u as f,v as S,x as k,y as j}from"./chunk-OBM2IMAR.js";import{a as l}from"./chunk-IWTVX5RH.js";import{readFileSync as M}from"node:fs";import{parseArgs as W}from"node:util";function D(t,r,o,u={soakSeconds:60}){let n=[];if(n.push(`Reboot plan ${I(r)} for ${i(t.cluster.name)} (${i(t.cluster.server)})`),n.push(`  plan ID ${r}`),n.push(`  ${t.nodes.length} planned, ${t.upToDate.length} up to date, ${t.unknown.length} not inspected`),t.nodes.length)for(let e of L(t,u,o))n.push(`  ${e.replace(/\*\*/g,"").replace(/\\/g,"")}`);for(let e of t.nodes){n.push("");let a=e.kernel.next===e.kernel.running?`${i(e.kernel.running)} (unchanged)`:`${i(e.kernel.running)} -> ${i(e.kernel.next)}`;n.push(`${e.order}. ${i(e.name)}  pool=${i(e.pool)}  ${e.method}  ${a}`);for(let s of e.evidence)n.push(`     evidence: ${i(s.detail)}`);if(e.pendingSince&&n.push(`     pending for ${P(o.getTime()-Date.parse(e.pendingSince))} (since ${i(e.pendingSince)})`),e.method==="reboot"){let s=e.fixes?.cves.length?`: ${e.fixes.cves.slice(0,10).join(", ")}${e.fixes.cveTotal>10?", ...":""}`:"";n.push(`     ${y(e.fixes,i)}${s}`)}e.packages.requiringRebootTotal&&n.push(`     requires reboot: ${e.packages.requiringReboot.map(i).join(", ")}${e.packages.requiringRebootTotal>e.packages.requiringReboot.length?", ...":""}`),e.packages.sinceBootTotal&&n.push(`     changed since boot: ${e.packages.sinceBootTotal} package(s)`);let p=e.evictions.reduce((s,m)=>s+m.pods,0);n.push(`     evicts ${p} pod(s)${e.evictions.length?": "+e.evictions.map(s=>`${i(s.namespace)}/${i(s.name)}`).join(", "):""}`);for(let s of e.risks)n.push(`     ${s.blocking?"BLOCKING":"risk"} ${s.kind}: ${i(s.detail)}`)}if(t.unknown.length){n.push("","Not inspected:");for(let e of t.unknown)n.push(`  ${i(e.name)}: ${i(e.reason)}`)}return t.upToDate.length&&n.push("",`Up to date: ${t.upToDate.map(i).join(", ")}`),n.join(`
`)+`
`}l(D,"renderTerminal");var g=l(t=>Object.entries(t).map(([r,[,o,u]])=>`  --${r.padEnd(24)} ${u}${o?` (default: ${o})`:""}`).join(`
`),"flags"),K=`usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json]
                         [--SETTING VALUE ...]
  Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  Exit codes: 0 plan printed, 1 failure, 2 bad usage or settings.

Plan settings (the same names as the action's inputs):
${g(f)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${g(h)}
`,V=`usage: reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                        [--SETTING VALUE ...]
  Executes a plan (as printed by plan --output json): one node at a time, resumable.
  Exit codes: 0 completed, 1 failed or stale, 2 bad usage or settings, 3 paused by a gate
  (run the same plan again later: finished nodes are skipped).

Plan settings (the same names as the action's inputs):
${g(f)}

Execution settings:
${g(S)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${g(h)}
`,_=`usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                   [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
  reboot-pilot plan --help, reboot-pilot run --help
      A command's settings.

Exit codes: 0 done, 1 failure (run: failed or stale), 2 bad usage or settings,
3 run paused by a gate (run the same plan again later).
`,B=["--help","-h"],C=l(t=>r=>t.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${r}
`),"progress");async function $e(t,r={out:process.stdout,err:process.stderr}){let[o,...u]=t;if(!o||o==="--help"||o==="-h"||o==="help")return r.out.write(_),o?0:2;if(o!=="plan"&&o!=="run")return r.err.write(`reboot-pilot: unknown command "${o}"
${_}`),2;if(u.some(a=>B.includes(a)))return r.out.write(o==="run"?V:K),0;let n;try{let a=[...Object.keys(f),...Object.keys(h),"output",...o==="run"?[...Object.keys(S),"plan"]:[]],p=Object.fromEntries(a.map(s=>[s,{type:"string"}]));n=W({args:u,options:p,strict:!0,allowPositionals:!1}).values}catch(a){return r.err.write(`reboot-pilot: ${a.message}
`),2}let e=n.output??"text";if(!(o==="run"?["text","json"]:["text","md","json"]).includes(e))return r.err.write(`reboot-pilot: --output must be ${o==="run"?"text or json":"text, md or json"}, not "${e}"
`),2;if(o==="run")return Z(n,e,r);try{let a=k(n),p=C(r.err),s=w(x(n),{log:p,getIDToken:$}),m=await T(s,a,p)??E(a),{plan:c,id:d}=await U(m,a,p,await z(s,p)),N=new Date;if(e==="json"){let q=JSON.parse(A(c));r.out.write(JSON.stringify({planId:d,plan:q},null,2)+`
`)}else e==="md"?r.out.write(R(c,d,{now:N})):r.out.write(D(c,d,N));return 0}catch(a){return F(a,r.err)}}l($e,"cli");function F(t,r){return t instanceof b?(r.write(`reboot-pilot: error: ${t.message}
`),t.message.startsWith("invalid settings")?2:1):(r.write(`reboot-pilot: failed: ${t.stack??String(t)}
`),1)}l(F,"failed");async function Z(t,r,o){if(!t.plan)return o.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let u=k(t),n=j(t),e;try{e=M(t.plan,"utf8")}catch(d){throw new b(`cannot read the plan file ${t.plan}: ${d.code??String(d)}`)}let a=G(e,t.plan),p=C(o.err),s=w(x(t),{needed:n["reboot-method"]==="azure-vmss",log:p,getIDToken:$}),m=await T(s,u,p)??E(u),c=await v(m,a,{plan:u,execute:n,log:p,...await J(s,n,m,p)});return o.out.write(r==="json"?JSON.stringify(c,null,2)+`
`:O(c)),c.state==="completed"?0:c.state==="paused"?3:1}catch(u){return F(u,o.err)}}l(Z,"run");export{$e as cli};
