import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{A as D,k as g,o as i,p as y,q as I,r as A,s as O,u as R,v as P,w as J,x as v,z}from"./chunk-YMTIE6OJ.js";import{a as w,b as x,c as L,d as U}from"./chunk-BLZS2XTD.js";import{U as E,V as k,h as f,i as $,s as h,t as b,v as S,w as N}from"./chunk-KRAYORKB.js";import{a as l}from"./chunk-IWTVX5RH.js";import{readFileSync as W}from"node:fs";import{parseArgs as _}from"node:util";function G(t,o,r,c={soakSeconds:60}){let n=[];if(n.push(`Reboot plan ${I(o)} for ${i(t.cluster.name)} (${i(t.cluster.server)})`),n.push(`  plan ID ${o}`),n.push(`  ${t.nodes.length} planned, ${t.upToDate.length} up to date, ${t.unknown.length} not inspected`),t.nodes.length)for(let e of O(t,c,r))n.push(`  ${e.replace(/\*\*/g,"").replace(/\\/g,"")}`);for(let e of t.nodes){n.push("");let a=e.kernel.next===e.kernel.running?`${i(e.kernel.running)} (unchanged)`:`${i(e.kernel.running)} -> ${i(e.kernel.next)}`;n.push(`${e.order}. ${i(e.name)}  pool=${i(e.pool)}  ${e.method}  ${a}`);for(let s of e.evidence)n.push(`     evidence: ${i(s.detail)}`);if(e.pendingSince&&n.push(`     pending for ${R(r.getTime()-Date.parse(e.pendingSince))} (since ${i(e.pendingSince)})`),e.method==="reboot"){let s=e.fixes?.cves.length?`: ${e.fixes.cves.slice(0,10).join(", ")}${e.fixes.cveTotal>10?", ...":""}`:"";n.push(`     ${A(e.fixes,i)}${s}`)}e.packages.requiringRebootTotal&&n.push(`     requires reboot: ${e.packages.requiringReboot.map(i).join(", ")}${e.packages.requiringRebootTotal>e.packages.requiringReboot.length?", ...":""}`),e.packages.sinceBootTotal&&n.push(`     changed since boot: ${e.packages.sinceBootTotal} package(s)`);let p=e.evictions.reduce((s,m)=>s+m.pods,0);n.push(`     evicts ${p} pod(s)${e.evictions.length?": "+e.evictions.map(s=>`${i(s.namespace)}/${i(s.name)}`).join(", "):""}`);for(let s of e.risks)n.push(`     ${s.blocking?"BLOCKING":"risk"} ${s.kind}: ${i(s.detail)}`)}if(t.unknown.length){n.push("","Not inspected:");for(let e of t.unknown)n.push(`  ${i(e.name)}: ${i(e.reason)}`)}return t.upToDate.length&&n.push("",`Up to date: ${t.upToDate.map(i).join(", ")}`),n.join(`
`)+`
`}l(G,"renderTerminal");var T=l(t=>Object.entries(t).map(([o,[,r,c]])=>`  --${o.padEnd(24)} ${c}${r?` (default: ${r})`:""}`).join(`
`),"flags"),C=`usage:
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
`,F=l(t=>o=>t.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${o}
`),"progress");async function me(t,o={out:process.stdout,err:process.stderr}){let[r,...c]=t;if(!r||r==="--help"||r==="-h"||r==="help")return o.out.write(C),r?0:2;if(r!=="plan"&&r!=="run")return o.err.write(`reboot-pilot: unknown command "${r}"
${C}`),2;let n;try{let a=[...Object.keys(h),...Object.keys(E),"output",...r==="run"?[...Object.keys(b),"plan"]:[]],p=Object.fromEntries(a.map(s=>[s,{type:"string"}]));n=_({args:c,options:p,strict:!0,allowPositionals:!1}).values}catch(a){return o.err.write(`reboot-pilot: ${a.message}
`),2}let e=n.output??"text";if(!(r==="run"?["text","json"]:["text","md","json"]).includes(e))return o.err.write(`reboot-pilot: --output must be ${r==="run"?"text or json":"text, md or json"}, not "${e}"
`),2;if(r==="run")return B(n,e,o);try{let a=S(n),p=F(o.err),s=w(k(n),{log:p,getIDToken:g}),m=await x(s,a,p)??f(a),{plan:u,id:d}=await J(m,a,p,await L(s,p)),j=new Date;return e==="json"?o.out.write(JSON.stringify({planId:d,plan:JSON.parse(y(u))},null,2)+`
`):e==="md"?o.out.write(P(u,d,{now:j})):o.out.write(G(u,d,j)),0}catch(a){return q(a,o.err)}}l(me,"cli");function q(t,o){return t instanceof $?(o.write(`reboot-pilot: error: ${t.message}
`),t.message.startsWith("invalid settings")?2:1):(o.write(`reboot-pilot: failed: ${t.stack??String(t)}
`),1)}l(q,"failed");async function B(t,o,r){if(!t.plan)return r.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let c=S(t),n=N(t),e;try{e=W(t.plan,"utf8")}catch(d){throw new $(`cannot read the plan file ${t.plan}: ${d.code??String(d)}`)}let a=z(e,t.plan),p=F(r.err),s=w(k(t),{needed:n["reboot-method"]==="azure-vmss",log:p,getIDToken:g}),m=await x(s,c,p)??f(c),u=await D(m,a,{plan:c,execute:n,log:p,...await U(s,n,m,p)});return r.out.write(o==="json"?JSON.stringify(u,null,2)+`
`:v(u)),u.state==="completed"?0:u.state==="paused"?3:1}catch(c){return q(c,r.err)}}l(B,"run");export{me as cli};
