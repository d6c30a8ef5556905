import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-P66YZXK5.js";import"./chunk-ZODGVK5Z.js";import"./chunk-IWTVX5RH.js";export{d as azureExtras,b as azureKubeClients,c as azurePlanFacts,a as openAzure};
