import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{A as U,C as v,j as b,k as w,l as j,p as i,r as N,s as A,u as I,v as P,w as R,y as L}from"./chunk-ISXXB4TH.js";import{a as x,b as k,c as C,d as O}from"./chunk-SCX4ZHRF.js";import{T as d,U as $,W as E,X as y,Z as g,_ as S,h as T,j as h}from"./chunk-FO46DWXI.js";import{a as u}from"./chunk-IWTVX5RH.js";import{parseArgs as M}from"node:util";function G(e,r,o,s={soakSeconds:60}){let n=[];if(n.push(`Reboot plan ${w(r)} for ${i(e.cluster.name)} (${i(e.cluster.server)})`),n.push(`  plan ID ${r}`),n.push(`  ${e.nodes.length} planned, ${e.upToDate.length} up to date, ${e.unknown.length} not inspected`),e.nodes.length)for(let t of A(e,s,o))n.push(`  ${t.replace(/\*\*/g,"").replace(/\\/g,"")}`);for(let t of e.nodes){n.push("");let p=t.kernel.next===t.kernel.running?`${i(t.kernel.running)} (unchanged)`:`${i(t.kernel.running)} -> ${i(t.kernel.next)}`;n.push(`${t.order}. ${i(t.name)}  pool=${i(t.pool)}  ${t.method}  ${p}`);for(let a of t.evidence)n.push(`     evidence: ${i(a.detail)}`);if(t.pendingSince&&n.push(`     pending for ${I(o.getTime()-Date.parse(t.pendingSince))} (since ${i(t.pendingSince)})`),t.method==="reboot"){let a=t.fixes?.cves.length?`: ${t.fixes.cves.slice(0,10).join(", ")}${t.fixes.cveTotal>10?", ...":""}`:"";n.push(`     ${N(t.fixes,i)}${a}`)}t.packages.requiringRebootTotal&&n.push(`     requires reboot: ${t.packages.requiringReboot.map(i).join(", ")}${t.packages.requiringRebootTotal>t.packages.requiringReboot.length?", ...":""}`),t.packages.sinceBootTotal&&n.push(`     changed since boot: ${t.packages.sinceBootTotal} package(s)`);let c=t.evictions.reduce((a,l)=>a+l.pods,0);n.push(`     evicts ${c} pod(s)${t.evictions.length?": "+t.evictions.map(a=>`${i(a.namespace)}/${i(a.name)}`).join(", "):""}`);for(let a of t.risks)n.push(`     ${a.blocking?"BLOCKING":"risk"} ${a.kind}: ${i(a.detail)}`)}if(e.unknown.length){n.push("","Not inspected:");for(let t of e.unknown)n.push(`  ${i(t.name)}: ${i(t.reason)}`)}return e.upToDate.length&&n.push("",`Up to date: ${e.upToDate.map(i).join(", ")}`),n.join(`
`)+`
`}u(G,"renderTerminal");var m=u(e=>Object.entries(e).map(([r,[,o,s]])=>`  --${r.padEnd(24)} ${s}${o?` (default: ${o})`:""}`).join(`
`),"flags"),W=`usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json]
                         [--SETTING VALUE ...]
  Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  Exit codes: 0 plan printed, 1 failure, 2 bad usage or settings.

Plan settings (the same names as the action's inputs):
${m(d)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${m(g)}
`,q=`usage: reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                        [--SETTING VALUE ...]
  Executes a plan (as printed by plan --output json): one node at a time, resumable.
  Exit codes: 0 completed, 1 failed or stale, 2 bad usage or settings, 3 paused by a gate
  (run the same plan again later: finished nodes are skipped).

Plan settings (the same names as the action's inputs):
${m(d)}

Execution settings:
${m($)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${m(g)}
`,z=`usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                   [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
  reboot-pilot plan --help, reboot-pilot run --help
      A command's settings.

Exit codes: 0 done, 1 failure (run: failed or stale), 2 bad usage or settings,
3 run paused by a gate (run the same plan again later).
`,F=["--help","-h"],D={plan:{formats:["text","md","json"],named:"text, md or json"},run:{formats:["text","json"],named:"text or json"}},V=u(e=>r=>e.write(`reboot-pilot ${new Date().toISOString().slice(11,19)} ${r}
`),"progress");async function $e(e,r={out:process.stdout,err:process.stderr}){let[o,...s]=e;if(!o||F.includes(o)||o==="help")return r.out.write(z),o?0:2;if(o!=="plan"&&o!=="run")return r.err.write(`reboot-pilot: unknown command "${o}"
${z}`),2;if(s.some(t=>F.includes(t)))return r.out.write(o==="run"?q:W),0;let n=K(o,s,r.err);return n?o==="run"?H(n.values,n.output,r):B(n.values,n.output,r):2}u($e,"cli");function K(e,r,o){let s;try{let t=[...Object.keys(d),...Object.keys(g),"output",...e==="run"?[...Object.keys($),"plan"]:[]],p=Object.fromEntries(t.map(c=>[c,{type:"string"}]));s=M({args:r,options:p,strict:!0,allowPositionals:!1}).values}catch(t){o.write(`reboot-pilot: ${t.message}
`);return}let n=s.output??"text";if(!D[e].formats.includes(n)){o.write(`reboot-pilot: --output must be ${D[e].named}, not "${n}"
`);return}return{values:s,output:n}}u(K,"parseFlags");function _(e,r){return e instanceof T?(r.write(`reboot-pilot: error: ${e.message}
`),e.message.startsWith("invalid settings")?2:1):(r.write(`reboot-pilot: failed: ${e.stack??String(e)}
`),1)}u(_,"failed");async function B(e,r,o){try{let s=E(e),n=V(o.err),t=x(S(e),{log:n,getIDToken:b}),p=await k(t,s,n)??h(s),c=await C(t,n),{plan:a,id:l}=await j(p,s,n,c);return o.out.write(Z(a,l,r)),0}catch(s){return _(s,o.err)}}u(B,"plan");function Z(e,r,o){let s=new Date;return o==="json"?R(e,r):o==="md"?P(e,r,{now:s}):G(e,r,s)}u(Z,"renderPlan");async function H(e,r,o){if(!e.plan)return o.err.write(`reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)
`),2;try{let s=E(e),n=y(e),t=L(e.plan),p=V(o.err),c=n.rebootMethod==="azure-vmss",a=x(S(e),{needed:c,log:p,getIDToken:b}),l=await k(a,s,p)??h(s),J=await O(a,n,l,p),f=await v(l,t,{plan:s,execute:n,log:p,...J});return o.out.write(r==="json"?JSON.stringify(f,null,2)+`
`:U(f)),X(f.state)}catch(s){return _(s,o.err)}}u(H,"run");function X(e){return e==="completed"?0:e==="paused"?3:1}u(X,"exitCode");export{$e as cli};
