import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{A as z,j as $,n as a,o as A,p as I,r as y,s as L,u as P,v as U,w as O,x as R,z as G}from"./chunk-AVA22NBK.js";import{a as k,b as N,c as J,d as v}from"./chunk-G4UFFEOJ.js";import{J as h,K as w,h as E,j as b,u as f,v as S,x,y as j}from"./chunk-OBM2IMAR.js";import{a as m}from"./chunk-IWTVX5RH.js";import{readFileSync as K}from"node:fs";import{parseArgs as V}from"node:util";function _(t,n,e,o={soakSeconds:60}){let{nodes:c,upToDate:u,unknown:s}=t,i=[`Reboot plan ${I(n)} for ${a(t.cluster.name)} (${a(t.cluster.server)})`,`  plan ID ${n}`,`  ${c.length} planned, ${u.length} up to date, ${s.length} not inspected`];if(c.length)for(let p of L(t,o,e))i.push(`  ${p.replace(/\*\*/g,"").replace(/\\/g,"")}`);for(let p of c)i.push("",...W(p,e));if(s.length){i.push("","Not inspected:");for(let p of s)i.push(`  ${a(p.name)}: ${a(p.reason)}`)}return u.length&&i.push("",`Up to date: ${u.map(a).join(", ")}`),i.join(`
`)+`
`}m(_,"renderTerminal");function W(t,n){let e=t.kernel.next===t.kernel.running?`${a(t.kernel.running)} (unchanged)`:`${a(t.kernel.running)} -> ${a(t.kernel.next)}`,o=[`${t.order}. ${a(t.name)}  pool=${a(t.pool)}  ${t.method}  ${e}`];for(let r of t.evidence)o.push(`     evidence: ${a(r.detail)}`);if(t.pendingSince){let r=P(n.getTime()-Date.parse(t.pendingSince));o.push(`     pending for ${r} (since ${a(t.pendingSince)})`)}if(t.method==="reboot"){let r=t.fixes?.cves??[],l=(t.fixes?.cveTotal??0)>10?", ...":"",d=r.length?`: ${r.slice(0,10).join(", ")}${l}`:"";o.push(`     ${y(t.fixes,a)}${d}`)}let{requiringReboot:c,requiringRebootTotal:u,sinceBootTotal:s}=t.packages;if(u){let r=u>c.length?", ...":"";o.push(`     requires reboot: ${c.map(a).join(", ")}${r}`)}s&&o.push(`     changed since boot: ${s} package(s)`);let i=t.evictions.reduce((r,l)=>r+l.pods,0),p=t.evictions.map(r=>`${a(r.namespace)}/${a(r.name)}`);o.push(`     evicts ${i} pod(s)${p.length?": "+p.join(", "):""}`);for(let r of t.risks)o.push(`     ${r.blocking?"BLOCKING":"risk"} ${r.kind}: ${a(r.detail)}`);return o}m(W,"nodeLines");var g=m(t=>Object.entries(t).map(([n,[,e,o]])=>`  --${n.padEnd(24)} ${o}${e?` (default: ${e})`:""}`).join(`
`),"flags"),q=`usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json]
                         [--SETTING VALUE ...]
  Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  Exit codes: 0 plan printed, 1 failure, 2 bad usage or settings.

Plan settings (the same names as the action's inputs):
${g(f)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${g(h)}
`,Z=`usage: reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
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
`,C=`usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                   [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
  reboot-pilot plan --help, reboot-pilot run --help
      A command's settings.

Exit codes: 0 done, 1 failure (run: failed or stale), 2 bad usage or settings,
3 run paused by a gate (run the same plan again later).
`,B=["--help","-h"],D=m(t=>n=>t.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${n}
`),"progress");async function Et(t,n={out:process.stdout,err:process.stderr}){let[e,...o]=t;if(!e||e==="--help"||e==="-h"||e==="help")return n.out.write(C),e?0:2;if(e!=="plan"&&e!=="run")return n.err.write(`reboot-pilot: unknown command "${e}"
${C}`),2;if(o.some(s=>B.includes(s)))return n.out.write(e==="run"?Z:q),0;let c;try{let s=[...Object.keys(f),...Object.keys(h),"output",...e==="run"?[...Object.keys(S),"plan"]:[]],i=Object.fromEntries(s.map(p=>[p,{type:"string"}]));c=V({args:o,options:i,strict:!0,allowPositionals:!1}).values}catch(s){return n.err.write(`reboot-pilot: ${s.message}
`),2}let u=c.output??"text";if(!(e==="run"?["text","json"]:["text","md","json"]).includes(u))return n.err.write(`reboot-pilot: --output must be ${e==="run"?"text or json":"text, md or json"}, not "${u}"
`),2;if(e==="run")return H(c,u,n);try{let s=x(c),i=D(n.err),p=k(w(c),{log:i,getIDToken:$}),r=await N(p,s,i)??b(s),{plan:l,id:d}=await O(r,s,i,await J(p,i)),T=new Date;if(u==="json"){let M=JSON.parse(A(l));n.out.write(JSON.stringify({planId:d,plan:M},null,2)+`
`)}else u==="md"?n.out.write(U(l,d,{now:T})):n.out.write(_(l,d,T));return 0}catch(s){return F(s,n.err)}}m(Et,"cli");function F(t,n){return t instanceof E?(n.write(`reboot-pilot: error: ${t.message}
`),t.message.startsWith("invalid settings")?2:1):(n.write(`reboot-pilot: failed: ${t.stack??String(t)}
`),1)}m(F,"failed");async function H(t,n,e){if(!t.plan)return e.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let o=x(t),c=j(t),u;try{u=K(t.plan,"utf8")}catch(d){throw new E(`cannot read the plan file ${t.plan}: ${d.code??String(d)}`)}let s=G(u,t.plan),i=D(e.err),p=k(w(t),{needed:c["reboot-method"]==="azure-vmss",log:i,getIDToken:$}),r=await N(p,o,i)??b(o),l=await z(r,s,{plan:o,execute:c,log:i,...await v(p,c,r,i)});return e.out.write(n==="json"?JSON.stringify(l,null,2)+`
`:R(l)),l.state==="completed"?0:l.state==="paused"?3:1}catch(o){return F(o,e.err)}}m(H,"run");export{Et as cli};
