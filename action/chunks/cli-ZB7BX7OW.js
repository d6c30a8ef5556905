import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{B as v,E as C,k as $,l as N,m as j,q as i,s as A,t as I,v as P,w as L,x as U,z as R}from"./chunk-WPXLNRDS.js";import{a as k,b as T,c as O,d as G}from"./chunk-623XUTQC.js";import{$ as x,U as g,V as h,X as S,Y as y,_ as b,h as w,j as E}from"./chunk-OBFFDD3H.js";import{a as l}from"./chunk-IWTVX5RH.js";import{parseArgs as W}from"node:util";function z(t,r,n,e={soakSeconds:60}){let{nodes:o,upToDate:a,unknown:u}=t,p=[`Reboot plan ${N(r)} for ${i(t.cluster.name)} (${i(t.cluster.server)})`,`  plan ID ${r}`,`  ${o.length} planned, ${a.length} up to date, ${u.length} not inspected`];if(o.length)for(let c of I(t,e,n))p.push(`  ${c.replace(/\*\*/g,"").replace(/\\/g,"")}`);for(let c of o)p.push("",...M(c,n));if(u.length){p.push("","Not inspected:");for(let c of u)p.push(`  ${i(c.name)}: ${i(c.reason)}`)}return a.length&&p.push("",`Up to date: ${a.map(i).join(", ")}`),p.join(`
`)+`
`}l(z,"renderTerminal");function M(t,r){let n=t.kernel.next===t.kernel.running?`${i(t.kernel.running)} (unchanged)`:`${i(t.kernel.running)} -> ${i(t.kernel.next)}`,e=[`${t.order}. ${i(t.name)}  pool=${i(t.pool)}  ${t.update}  ${n}`];for(let s of t.evidence)e.push(`     evidence: ${i(s.detail)}`);if(t.pendingSince){let s=P(r.getTime()-Date.parse(t.pendingSince));e.push(`     pending for ${s} (since ${i(t.pendingSince)})`)}if(t.update==="reboot"){let s=t.fixes?.cves??[],m=(t.fixes?.cveTotal??0)>10?", ...":"",d=s.length?`: ${s.slice(0,10).join(", ")}${m}`:"";e.push(`     ${A(t.fixes,i)}${d}`)}let{requiringReboot:o,requiringRebootTotal:a,sinceBootTotal:u}=t.packages;if(a){let s=a>o.length?", ...":"";e.push(`     requires reboot: ${o.map(i).join(", ")}${s}`)}u&&e.push(`     changed since boot: ${u} package(s)`);let p=t.evictions.reduce((s,m)=>s+m.pods,0),c=t.evictions.map(s=>`${i(s.namespace)}/${i(s.name)}`);e.push(`     evicts ${p} pod(s)${c.length?": "+c.join(", "):""}`);for(let s of t.risks)e.push(`     ${s.blocking?"BLOCKING":"risk"} ${s.kind}: ${i(s.detail)}`);return e}l(M,"nodeLines");var f=l(t=>Object.entries(t).map(([r,[,n,e]])=>`  --${r.padEnd(24)} ${e}${n?` (default: ${n})`:""}`).join(`
`),"flags"),K=`usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json]
                         [--SETTING VALUE ...]
  Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  Exit codes: 0 plan printed, 1 failure, 2 bad usage or settings.

Plan settings (the same names as the action's inputs):
${f(g)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${f(b)}
`,q=`usage: reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                        [--SETTING VALUE ...]
  Executes a plan (as printed by plan --output json): one node at a time, resumable.
  Exit codes: 0 completed, 1 failed or stale, 2 bad usage or settings, 3 paused by a gate
  (run the same plan again later: finished nodes are skipped).

Plan settings (the same names as the action's inputs):
${f(g)}

Execution settings:
${f(h)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${f(b)}
`,F=`usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                   [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
  reboot-pilot plan --help, reboot-pilot run --help
      A command's settings.

Exit codes: 0 done, 1 failure (run: failed or stale), 2 bad usage or settings,
3 run paused by a gate (run the same plan again later).
`,V=["--help","-h"],_={plan:{formats:["text","md","json"],named:"text, md or json"},run:{formats:["text","json"],named:"text or json"}},D=l(t=>r=>t.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${r}
`),"progress");async function ht(t,r={out:process.stdout,err:process.stderr}){let[n,...e]=t;if(!n||V.includes(n)||n==="help")return r.out.write(F),n?0:2;if(n!=="plan"&&n!=="run")return r.err.write(`reboot-pilot: unknown command "${n}"
${F}`),2;if(e.some(a=>V.includes(a)))return r.out.write(n==="run"?q:K),0;let o=Z(n,e,r.err);return o?n==="run"?X(o.values,o.output,r):B(o.values,o.output,r):2}l(ht,"cli");function Z(t,r,n){let e;try{let a=[...Object.keys(g),...Object.keys(b),"output",...t==="run"?[...Object.keys(h),"plan"]:[]],u=Object.fromEntries(a.map(p=>[p,{type:"string"}]));e=W({args:r,options:u,strict:!0,allowPositionals:!1}).values}catch(a){n.write(`reboot-pilot: ${a.message}
`);return}let o=e.output??"text";if(!_[t].formats.includes(o)){n.write(`reboot-pilot: --output must be ${_[t].named}, not "${o}"
`);return}return{values:e,output:o}}l(Z,"parseFlags");function J(t,r){return t instanceof w?(r.write(`reboot-pilot: error: ${t.message}
`),t.message.startsWith("invalid settings")?2:1):(r.write(`reboot-pilot: failed: ${t.stack??String(t)}
`),1)}l(J,"failed");async function B(t,r,n){try{let e=S(t),o=D(n.err),a=k(x(t),{log:o,getIDToken:$}),u=await T(a,e,o)??E(e),p=await O(a,o),{plan:c,planId:s}=await j(u,e,o,p);return n.out.write(H(c,s,r)),0}catch(e){return J(e,n.err)}}l(B,"plan");function H(t,r,n){let e=new Date;return n==="json"?U(t,r):n==="md"?L(t,r,{now:e}):z(t,r,e)}l(H,"renderPlan");async function X(t,r,n){if(!t.plan)return n.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let e=S(t),o=y(t),a=R(t.plan),u=D(n.err),p=o.rebootMethod==="azure-vmss",c=k(x(t),{needed:p,log:u,getIDToken:$}),s=await T(c,e,u)??E(e),m=await G(c,o,s,u),d=await C(s,a,{plan:e,execute:o,log:u,...m});return n.out.write(r==="json"?JSON.stringify(d,null,2)+`
`:v(d)),Q(d.state)}catch(e){return J(e,n.err)}}l(X,"run");function Q(t){return t==="completed"?0:t==="paused"?3:1}l(Q,"exitCode");export{ht as cli};
