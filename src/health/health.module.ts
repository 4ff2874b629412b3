import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ShutdownState } from 'src/common/lifecycle/shutdown-state';
import { HealthController } from 'src/health/health.controller';
import { IssuersModule } from 'src/issuers/issuers.module';

@Module({
  controllers: [HealthController],
  providers: [ShutdownState],
  exports: [ShutdownState],
  imports: [IssuersModule, TerminusModule.forRoot({ errorLogStyle: 'json', logger: false })],
})
export class HealthModule {}
