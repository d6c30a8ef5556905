import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-623XUTQC.js";import"./chunk-OBFFDD3H.js";import"./chunk-IWTVX5RH.js";export{d as azureExtras,b as azureKubeClients,c as azurePlanFacts,a as openAzure};
