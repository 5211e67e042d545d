/** Bench child 3: bare Apollo Server 5 with graphql-jit behind its gateway executor hook (bench/bare-apollo.ts). */
import { startBareApollo } from './bare-apollo.js';
import { serveChild } from './shared.js';

serveChild(() => startBareApollo(true));
