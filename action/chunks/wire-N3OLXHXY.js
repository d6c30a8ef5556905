import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);
import{a,b,c,d}from"./chunk-F4VNG5FG.js";import"./chunk-5ZJWQE5L.js";import"./chunk-IWTVX5RH.js";export{d as azureExtras,b as azureKubeClients,c as azurePlanFacts,a as openAzure};
